import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { ApiError } from '@/lib/api-client';
import { isValidId, isValidName } from '@/lib/contracts/common';
import type { HotPool, Snapshot } from '@/lib/contracts/snapshots';
import { formatAge, formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, openDownload, pageArgs, printJson, printNextPage } from '../output';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

/**
 * A snapshot as the server resolves it (SnapshotService.resolve): its id, or its label when exactly
 * one snapshot has it; several answer 409 with the candidates listed.
 */
const findSnapshot = (client: ApiClient, ref: string): Promise<Snapshot> => client.snapshots.get(ref);

const notFound = (err: unknown) => err instanceof ApiError && err.status === 404;

/** hangar snapshots [--limit N [--cursor C]]: the tree, indented under parents; a page of it (oldest first) with --limit. */
export async function list(argv: string[], json: boolean): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { limit: { type: 'string' }, cursor: { type: 'string' } } });
  const page = pageArgs(values);
  const { items, next } = await api().snapshots.list(page);
  printNextPage(next, 'hangar snapshots', page.limit);
  if (json) return printJson(items);
  if (items.length === 0) return void console.log('No snapshots. Take one: hangar checkpoint NAME');
  // On a page, a node whose parent is on an earlier page starts a tree of its own.
  const ids = new Set(items.map((s) => s.id));
  const kids = new Map<string | null, Snapshot[]>();
  for (const s of items) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : null;
    kids.set(parent, [...(kids.get(parent) ?? []), s]);
  }
  const treeBytes = (s: Snapshot): number => s.sizeBytes + (kids.get(s.id) ?? []).reduce((a, k) => a + treeBytes(k), 0);
  const walk = (parent: string | null, depth: number) => {
    for (const s of kids.get(parent) ?? []) {
      if (depth === 0) console.log(`# tree of ${s.image}: ${formatBytes(treeBytes(s))} on disk`);
      const on = s.machines.length ? `  ← ${s.machines.map((m) => m.name).join(', ')}` : '';
      const pause = s.pauseMs !== null ? `, paused ${s.pauseMs} ms` : '';
      console.log(
        `${'  '.repeat(depth)}${s.id}  ${s.label}  ` +
          `[${s.kind}${s.state === 'complete' ? '' : `, ${s.state}`}${pause}, ${formatBytes(s.sizeBytes)}, ` +
          `${formatAge(s.createdAt)}]${on}`,
      );
      walk(s.id, depth + 1);
    }
  };
  walk(null, 0);
}

export async function checkpoint(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { label: { type: 'string', short: 'l' } } });
  if (!positionals[0]) throw new CliError('Usage: hangar checkpoint NAME [-l LABEL]', 2);
  const client = api();
  const job = await followJob(client, await client.snapshots.checkpoint(positionals[0], values.label), json);
  const id = (job.result as { snapshot?: string } | null)?.snapshot;
  if (json) printJson(id ? await client.snapshots.get(id) : job);
  else if (id) {
    const s = await client.snapshots.get(id);
    console.log(`Snapshot ${s.id} (${s.kind}${s.pauseMs !== null ? `, guest paused ${s.pauseMs} ms` : ''}, ${formatBytes(s.sizeBytes)}).`);
  }
}

export async function restore(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { machine: { type: 'string', short: 'm' }, 'no-checkpoint': { type: 'boolean', default: false } },
  });
  if (!positionals[0]) throw new CliError('Usage: hangar restore SNAPSHOT [--machine NAME] [--no-checkpoint]', 2);
  const client = api();
  const snap = await findSnapshot(client, positionals[0]);
  await followJob(client, await client.snapshots.restore(snap.id, { machine: values.machine, checkpointFirst: !values['no-checkpoint'] }), json);
  if (!json) console.log(`Restored ${values.machine ?? snap.machineName ?? 'the machine'} to "${snap.label}".`);
}

/**
 * hangar fork SNAPSHOT -n N, or hangar fork MACHINE -n N (fork now: checkpoint + fork). REF is read as,
 * in order: a snapshot id; a machine (name or id: "fork now"); a snapshot label. A machine's name
 * wins over a snapshot label that happens to be the same text: names are unique and labels are
 * not, so the name is the sure reading; the snapshot's id forks the snapshot instead.
 */
export async function fork(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      n: { type: 'string', short: 'n', default: '1' },
      prefix: { type: 'string' },
      'new-identity': { type: 'boolean', default: false },
      node: { type: 'string' },
    },
  });
  const ref = positionals[0];
  const count = Number(values.n);
  if (!ref || !Number.isInteger(count)) throw new CliError('Usage: hangar fork SNAPSHOT|MACHINE [-n COUNT] [--prefix NAME] [--new-identity] [--node NODE]', 2);
  const client = api();
  const body = { count, namePrefix: values.prefix, newIdentity: values['new-identity'] };
  const snapshotId = isValidId(ref) && ref.startsWith('snp_');
  const machine =
    !snapshotId && (isValidName(ref) || isValidId(ref))
      ? await client.machines.get(ref).catch((err: unknown) => {
          if (notFound(err)) return null;
          throw err;
        })
      : null;
  let job;
  if (machine) {
    // Said once, on stderr, when the text also labels a snapshot: the person may have meant that.
    const alsoLabel = await client.snapshots.get(ref).then(
      (s) => s.id,
      (err: unknown) => (err instanceof ApiError && err.status === 409 ? 'its id' : null),
    );
    if (alsoLabel && !json)
      process.stderr.write(`note: "${ref}" is a machine and also a snapshot label: forking the machine now (hangar fork ${alsoLabel} forks the snapshot)\n`);
    if (values.node)
      throw new CliError(`--node: forks of a machine now run on its own node; checkpoint it, then hangar fork SNAPSHOT --node ${values.node}`, 2);
    job = await client.snapshots.forkNow(machine.id, body);
  } else {
    // --node: the forks run there (a cluster); a node that does not hold the snapshot copies it first.
    job = await client.snapshots.fork(ref, { ...body, ...(values.node ? { node: values.node } : {}) }).catch((err: unknown) => {
      if (notFound(err)) throw new CliError(`No snapshot or machine "${ref}" (hangar snapshots, hangar ps).`);
      throw err;
    });
  }
  const done = await followJob(client, job, json);
  const ids = (done.result as { machines?: string[] } | null)?.machines ?? [];
  const names = await Promise.all(ids.map(async (id) => (await client.machines.get(id)).name));
  if (json) printJson({ machines: names });
  else console.log(`Forked: ${names.join(', ')}`);
}

export async function snapshotCmd(argv: string[], json: boolean): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'ls') return list(rest, json);
  if (sub === 'show') {
    if (!rest[0]) throw new CliError('Usage: hangar snapshot show SNAPSHOT', 2);
    const s = await findSnapshot(api(), rest[0]);
    if (json) return printJson(s);
    console.log(
      [
        `${s.id}  ${s.label}`,
        `  ${s.kind} snapshot of ${s.machineName ?? '(a machine since removed)'} (${s.driver}, image ${s.image}), ${s.state}, ${formatBytes(s.sizeBytes)}`,
        `  created ${new Date(s.createdAt).toISOString().slice(0, 19).replace('T', ' ')} UTC (${formatAge(s.createdAt)})` +
          (s.pauseMs !== null ? `, guest paused ${s.pauseMs} ms` : ''),
        `  parent: ${s.parentId ?? '(a root)'}; machines on it: ${s.machines.map((m) => m.name).join(', ') || 'none'}`,
        ...(s.pool ? [`  hot: ${hotLine(s.pool)}`] : []),
        ...(s.copies.length
          ? [`  copies on other nodes: ${s.copies.map((c) => `${c.node} (${formatBytes(c.bytes)}, last used ${formatAge(c.lastUsedAt)})`).join(', ')}`]
          : []),
      ].join('\n'),
    );
    return;
  }
  if (sub === 'rm') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { cascade: { type: 'boolean', default: false } } });
    if (!positionals[0]) throw new CliError('Usage: hangar snapshot rm SNAPSHOT [--cascade]', 2);
    const client = api();
    const snap = await findSnapshot(client, positionals[0]);
    await client.snapshots.remove(snap.id, values.cascade);
    if (json) printJson({ removed: snap.id });
    else console.log(`Deleted snapshot ${snap.id} (${snap.label}).`);
    return;
  }
  if (sub === 'hot') {
    const [ref, onOff] = rest;
    if (!ref || !['on', 'off'].includes(onOff ?? '')) throw new CliError('Usage: hangar snapshot hot SNAPSHOT on|off', 2);
    const client = api();
    const snap = await client.snapshots.hot((await findSnapshot(client, ref)).id, onOff === 'on');
    if (json) return printJson(snap);
    console.log(snap.pool ? `"${snap.label}" is hot: ${hotLine(snap.pool)}` : `"${snap.label}" is not hot: no processes kept for its forks.`);
    return;
  }
  if (sub === 'export') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
    if (!positionals[0]) throw new CliError('Usage: hangar snapshot export SNAPSHOT [-o FILE]', 2);
    const client = api();
    const snap = await findSnapshot(client, positionals[0]);
    // A file named with -o is opened first: one that cannot be written is said before the server packs anything.
    let out = values.output !== undefined ? openDownload(values.output) : null;
    const res = await client.snapshots.exportArchive(snap.id).catch((err: unknown) => (out?.abandon(), Promise.reject(err)));
    // The server's name for it, in the current directory (never a path the header names).
    const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
    const file = values.output ?? (named ? path.basename(named) : `${snap.id}.hangar.tar`);
    try {
      out ??= openDownload(file);
    } catch (err) {
      await res.body?.cancel();
      throw err;
    }
    try {
      await pipeline(Readable.fromWeb(res.body as never), fs.createWriteStream('', { fd: out.fd }));
    } catch (err) {
      out.abandon();
      throw err;
    }
    out.done();
    if (json) printJson({ snapshot: snap.id, file, bytes: fs.statSync(file).size });
    else console.log(`Wrote ${file} (${formatBytes(fs.statSync(file).size)}): import it elsewhere with hangar snapshot import ${file}`);
    return;
  }
  if (sub === 'import') {
    if (!rest[0]) throw new CliError('Usage: hangar snapshot import FILE', 2);
    if (!fs.existsSync(rest[0])) throw new CliError(`No file ${rest[0]}.`);
    const snap = await api().snapshots.importArchive(Readable.toWeb(fs.createReadStream(rest[0])) as ReadableStream);
    if (json) printJson(snap);
    else console.log(`Imported snapshot ${snap.id} (${snap.label}). Start a machine from it: hangar fork ${snap.id}`);
    return;
  }
  throw new CliError(
    `Unknown: hangar snapshot ${sub}. Try: hangar snapshot [ls | show SNAPSHOT | rm SNAPSHOT [--cascade] | hot SNAPSHOT on|off | ` +
      'export SNAPSHOT [-o FILE] | import FILE]',
    2,
  );
}

/** A hot snapshot's standbys in a line. */
function hotLine(p: HotPool): string {
  if (p.reason) return `keeps none (${p.reason})`;
  return (
    `${p.ready} of ${p.target} processes ready${p.starting ? `, ${p.starting} starting` : ''}${p.byForkLink ? ' (a fork link hands out its forks)' : ''}; ` +
    `they hold ${formatBytes(p.residentBytes)} resident and count ${p.reservedMib} MiB against the memory limit`
  );
}

/** hangar gc: the step cache within its limits, then unreferenced disk layers, stray snapshot files, failed snapshots and pulled images nothing names. */
export async function gc(json: boolean): Promise<void> {
  const r = await api().snapshots.gc();
  if (json) return printJson(r);
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const images = r.removedImages ? `, ${n(r.removedImages, 'unnamed pulled image')}` : '';
  console.log(
    `Removed ${n(r.removedSteps, 'cached step')} past the step cache's limits, ${n(r.removedFiles, 'file')} and ` +
      `${n(r.removedSnapshots, 'failed snapshot')}${images}; freed ${formatBytes(r.freedBytes)}.`,
  );
}
