import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { userDataProblem } from '@/lib/contracts/disk-images';
import { firmwareSchema, firmwares } from '@/lib/contracts/isos';
import {
  containerNetworks,
  driverKinds,
  driverKindSchema,
  machineStates,
  type BulkAction,
  type Machine,
  type MachineAction,
  type RunOnceEvent,
} from '@/lib/contracts/machines';
import { shellQuote } from '@/lib/shell-quote';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, describeError, pageArgs, printJson, printNextPage } from '../output';
import { isoFor } from './isos';
import { imageFor } from './pull';
import { showRunEvent } from './run-light';

function api() {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

/** A word as a shell reads it back: as it is when plain, else quoted. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : shellQuote(w));

/** The machines `--state`, `--driver` and `--tag` (each may repeat) and a name substring select. */
async function selectMachines(
  values: { state?: string[]; driver?: string[]; tag?: string[] },
  search?: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<{ items: Machine[]; next: string | null }> {
  for (const s of values.state ?? []) if (!machineStates.includes(s as Machine['state'])) throw new CliError(`--state: one of ${machineStates.join(', ')}`, 2);
  for (const d of values.driver ?? []) if (!driverKinds.includes(d as Machine['driver'])) throw new CliError(`--driver: one of ${driverKinds.join(', ')}`, 2);
  const matches = (m: Machine) =>
    (!values.state?.length || values.state.includes(m.state)) &&
    (!values.driver?.length || values.driver.includes(m.driver)) &&
    (values.tag ?? []).every((t) => m.tags.includes(t)) &&
    (!search || m.name.includes(search));
  if (page.limit === undefined) {
    const { items, next } = await api().machines.list(page);
    return { items: items.filter(matches), next };
  }
  // A page of `limit` machines that match, not the matches among `limit` machines: the server's pages are read on
  // until it is full. Where it fills in the middle of one, that page is asked again up to its last kept machine, so
  // `next` (opaque: the server's own) is where the following page starts.
  const items: Machine[] = [];
  let cursor = page.cursor;
  for (;;) {
    const from = cursor ? { cursor } : {};
    const res = await api().machines.list({ limit: page.limit, ...from });
    for (const [i, m] of res.items.entries()) {
      if (!matches(m)) continue;
      items.push(m);
      if (items.length < page.limit) continue;
      const next = i === res.items.length - 1 ? res.next : (await api().machines.list({ limit: i + 1, ...from })).next;
      return { items, next };
    }
    if (!res.next) return { items, next: null };
    cursor = res.next;
  }
}

const filterOptions = {
  state: { type: 'string', multiple: true },
  driver: { type: 'string', multiple: true },
  tag: { type: 'string', short: 't', multiple: true },
} as const;

/** Every machine the filters select (all pages). */
async function selectAll(values: { state?: string[]; driver?: string[]; tag?: string[] }, search?: string): Promise<Machine[]> {
  return (await selectMachines(values, search)).items;
}

export async function ps(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...filterOptions, limit: { type: 'string' }, cursor: { type: 'string' } },
  });
  // --limit: one page of that many machines (by name), filtered; --cursor: the page after.
  const page = pageArgs(values);
  const { items, next } = await selectMachines(values, positionals[0], page);
  // The next page's command keeps this one's filters.
  const filters = [
    ...(positionals[0] ? [shellWord(positionals[0])] : []),
    ...(values.state ?? []).map((v) => `--state ${shellWord(v)}`),
    ...(values.driver ?? []).map((v) => `--driver ${shellWord(v)}`),
    ...(values.tag ?? []).map((v) => `--tag ${shellWord(v)}`),
  ];
  printNextPage(next, ['hangar ps', ...filters].join(' '), page.limit);
  if (json) return printJson(items);
  if (items.length === 0) return void console.log(argv.length ? 'No machines match.' : 'No machines. Create one: hangar create NAME --image busybox');
  console.log(`${'NAME'.padEnd(20)} ${'STATE'.padEnd(9)} ${'DRIVER'.padEnd(11)} ${'IMAGE'.padEnd(12)} ${'RESOURCES'.padEnd(18)} TAGS`);
  for (const m of items) {
    console.log(
      `${m.name.padEnd(20)} ${m.state.padEnd(9)} ` +
        `${`${m.driver}${m.accel ? `/${m.accel}` : ''}`.padEnd(11)} ${m.image.padEnd(12)} ` +
        `${`${m.cpus} vCPU, ${m.memoryMib} MiB`.padEnd(18)} ${m.tags.join(',')}`,
    );
  }
}

/** hangar tag NAME [+TAG | -TAG]...: add and remove tags (a bare TAG adds); no changes: print them. */
export async function tag(argv: string[], json: boolean): Promise<void> {
  const [name, ...changes] = argv;
  if (!name || name.startsWith('-')) throw new CliError('Usage: hangar tag NAME [+TAG | -TAG]...', 2);
  const client = api();
  const m = await client.machines.get(name);
  const tags = new Set(m.tags);
  for (const c of changes) {
    if (c.startsWith('-')) tags.delete(c.slice(1));
    else tags.add(c.replace(/^\+/, ''));
  }
  const after = changes.length ? await client.machines.update(name, { tags: [...tags] }) : m;
  if (json) printJson(after.tags);
  else console.log(after.tags.length ? after.tags.join(' ') : `${name} has no tags.`);
}

export async function create(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      image: { type: 'string' },
      iso: { type: 'string' },
      firmware: { type: 'string' },
      driver: { type: 'string', default: 'qemu' },
      network: { type: 'string', default: 'private' },
      publish: { type: 'string', short: 'p', multiple: true, default: [] },
      cpus: { type: 'string' },
      memory: { type: 'string' },
      disk: { type: 'string' },
      'no-start': { type: 'boolean', default: false },
      boot: { type: 'boolean', default: false },
      tag: { type: 'string', short: 't', multiple: true, default: [] },
      'user-data': { type: 'string' },
      node: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (!name)
    throw new CliError(
      'Usage: hangar create NAME [--image busybox] [--driver qemu|nspawn|podman] [--network ' +
        'private|nat|host] [-p HOST:GUEST]... [--cpus N] [--memory MiB] [--disk GiB] [--tag T]... ' +
        '[--no-start] [--node NODE] | hangar create NAME --image REF --driver nspawn --boot (an OCI image with systemd, booted) ' +
        '| hangar create NAME --iso ISO|FILE|URL --disk GiB [--firmware bios|uefi] ' +
        '| hangar create NAME --image DISK-IMAGE [--user-data FILE] [--firmware bios|uefi] (a disk image with cloud-init)',
      2,
    );
  const driver = driverKindSchema.safeParse(values.driver);
  if (!driver.success) throw new CliError(`--driver: one of ${driverKinds.join(', ')}`, 2);
  const network = containerNetworks.find((n) => n === values.network);
  if (!network) throw new CliError(`--network: one of ${containerNetworks.join(', ')}`, 2);
  const ports = (values.publish ?? []).map((p) => {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(p);
    if (!m) throw new CliError(`-p ${p}: write HOST:GUEST, like 8080:80`, 2);
    return { host: Number(m[1]), guest: Number(m[2]), protocol: 'tcp' as const };
  });
  const num = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CliError(`--${what}: not a whole number: ${v}`, 2);
    return n;
  };
  const client = api();
  if (values.iso && values.image) throw new CliError('--image or --iso, not both', 2);
  const firmware = firmwareSchema.safeParse(values.firmware ?? 'bios');
  if (!firmware.success) throw new CliError(`--firmware: one of ${firmwares.join(', ')}`, 2);
  const install = values.iso ? { iso: await isoFor(client, values.iso, json), firmware: firmware.data } : null;
  const job = await client.machines.create({
    name,
    driver: driver.data,
    network,
    ports,
    ...(install ?? { image: await imageFor(client, values.image ?? 'busybox'), ...(values.firmware ? { firmware: firmware.data } : {}) }),
    ...(values['user-data'] !== undefined ? { userData: readUserData(values['user-data']) } : {}),
    cpus: num(values.cpus, 'cpus'),
    memoryMib: num(values.memory, 'memory'),
    diskGib: num(values.disk, 'disk'),
    tags: values.tag,
    ...(values.boot ? { boot: true } : {}),
    ...(values.node ? { node: values.node } : {}),
    start: !values['no-start'],
  });
  await followJob(client, job, json);
  const m = await client.machines.get(name);
  if (json) printJson(m);
  else console.log(`${m.name} is ${m.state}.`);
}

export async function act(action: MachineAction, argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: 'boolean', default: false }, timeout: { type: 'string' }, ...filterOptions },
  });
  const selecting = !!(values.state?.length || values.driver?.length || values.tag?.length);
  if (selecting || positionals.length > 1)
    return bulk(action === 'stop' && values.force ? 'force-stop' : action, selecting ? (await selectAll(values)).map((m) => m.name) : positionals, json);
  if (!positionals[0]) throw new CliError(`Usage: hangar ${action} NAME... | --tag T | --state S${action === 'stop' ? ' [--force] [--timeout S]' : ''}`, 2);
  const client = api();
  const job = await client.machines.act(positionals[0], action, { force: values.force, ...(values.timeout ? { timeoutS: Number(values.timeout) } : {}) });
  await followJob(client, job, json);
  const m = await client.machines.get(positionals[0]);
  if (json) printJson(m);
  else console.log(`${m.name} is ${m.state}.`);
}

/** One action on several machines (POST /machines/bulk): each one's job followed; non-zero exit when any was refused or failed. */
async function bulk(action: BulkAction, names: string[], json: boolean): Promise<void> {
  if (names.length === 0) throw new CliError('No machines match.', 1);
  const client = api();
  const { results } = await client.machines.bulk({ action, machines: names });
  let failed = 0;
  for (const r of results) {
    if (!r.job) {
      failed++;
      if (!json) console.error(`${r.machine}: ${r.error?.message ?? 'refused'}`);
      continue;
    }
    try {
      await followJob(client, r.job, true);
      if (!json) console.log(`${r.machine}: ${action} done.`);
    } catch (err) {
      failed++;
      if (!json) console.error(`${r.machine}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (json) printJson(results);
  if (failed) throw new CliError(`${failed} of ${results.length} machines: not done.`, 1);
}

export async function rm(argv: string[], json: boolean): Promise<number> {
  if (argv.length === 0) throw new CliError('Usage: hangar rm NAME [NAME...]', 2);
  const client = api();
  // Each name on its own, as start and stop do: one that cannot go (not found, refused) is named, and the rest go on.
  const destroyed: string[] = [];
  const failed: { machine: string; error: string }[] = [];
  for (const name of argv) {
    try {
      await followJob(client, await client.machines.destroy(name), json);
      destroyed.push(name);
      if (!json) console.log(`Destroyed ${name}.`);
    } catch (err) {
      const error = describeError(err);
      failed.push({ machine: name, error });
      if (!json && argv.length > 1) console.error(`${name}: ${error}`);
    }
  }
  // --json: one document, which says what failed; the exit code says that it did.
  if (json) {
    printJson({ destroyed, failed });
    return failed.length ? 1 : 0;
  }
  if (failed.length) throw new CliError(argv.length === 1 ? failed[0].error : `${failed.length} of ${argv.length} machines: not removed.`, 1);
  return 0;
}

/**
 * hangar exec NAME [-i] [--timeout S] -- CMD ARGS: its stdout on ours as it comes, its stderr at the end, the guest's exit
 * code as ours; with -i our stdin is the command's (its end the command's EOF; without -i it reads nothing, so a loop
 * reading our stdin keeps it). --json: one document when it ends.
 */
export async function exec(argv: string[], json: boolean): Promise<number> {
  const usage = 'Usage: hangar exec NAME [-i] [--timeout SECONDS] -- CMD [ARGS...]';
  const sep = argv.indexOf('--');
  const name = argv[0];
  const cmd = sep >= 0 ? argv.slice(sep + 1) : argv.slice(1);
  if (!name || name === '--' || cmd.length === 0) throw new CliError(usage, 2);
  // Options go between the name and `--`: nothing there is dropped unread.
  // Without `--`, an option would go to the guest as its command.
  if (sep < 0 && cmd[0].startsWith('-')) throw new CliError(`Options go before --: ${usage}`, 2);
  let timeoutS: number | undefined;
  let interactive = false;
  if (sep > 1) {
    let values: { timeout?: string; interactive?: boolean };
    try {
      ({ values } = parseArgs({ args: argv.slice(1, sep), options: { timeout: { type: 'string' }, interactive: { type: 'boolean', short: 'i' } } }));
    } catch (err) {
      throw new CliError(`${(err as Error).message}\n${usage}`, 2);
    }
    interactive = values.interactive === true;
    if (values.timeout !== undefined) {
      timeoutS = Number(values.timeout);
      if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 3600) throw new CliError(`--timeout: whole seconds, 1 to 3600 (default 60)\n${usage}`, 2);
    }
  }
  const client = api();
  if (json) {
    if (interactive) throw new CliError(`-i streams: it does not go with --json\n${usage}`, 2);
    const r = await client.machines.exec(name, cmd, timeoutS);
    printJson(r);
    return r.code;
  }
  let feeding: Promise<unknown> = Promise.resolve();
  let last: RunOnceEvent | null;
  try {
    last = await client.machines.execStream(name, { argv: cmd, stdin: interactive, ...(timeoutS ? { timeoutS } : {}) }, (e) =>
      showRunEvent(e, (machine, id) => {
        feeding = client.runs.stdin(machine, id, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>).catch(() => undefined);
      }),
    );
  } finally {
    // The command is over: whatever our stdin still holds is not read (and must not keep us waiting).
    if (interactive) process.stdin.destroy();
  }
  await Promise.race([feeding, new Promise((r) => setTimeout(r, 100))]);
  // An exit code is 0-255 (a negative one would not end this process with it: main exits only on >= 0).
  if (last?.t === 'exit' && last.code >= 0 && last.code <= 255) return last.code;
  if (last?.t === 'exit') throw new CliError(`exec: the command ended with code ${last.code}`);
  throw new CliError(last?.t === 'error' ? last.message : 'exec: the server ended the stream early');
}

/** hangar unit NAME: a container as a systemd unit file for the host, on stdout. */
export async function unit(argv: string[], json: boolean): Promise<void> {
  if (!argv[0] || argv[0].startsWith('-')) throw new CliError('Usage: hangar unit NAME > /etc/systemd/system/hangar-NAME.service', 2);
  const u = await api().machines.unitFile(argv[0]);
  if (json) printJson(u);
  else process.stdout.write(u.unit);
}

/** hangar logs NAME [-n BYTES] [-f]: the console log's tail (the serial line, or a container's output), and with -f what follows. */
export async function logs(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { follow: { type: 'boolean', short: 'f', default: false }, bytes: { type: 'string', short: 'n' } },
  });
  if (!positionals[0]) throw new CliError('Usage: hangar logs NAME [-n BYTES] [-f]', 2);
  const tail = values.bytes === undefined ? undefined : Number(values.bytes);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 1)) throw new CliError(`-n: a number of bytes, not ${values.bytes}`, 2);
  const client = api();
  let piece = await client.machines.logs(positionals[0], { tail });
  if (json && !values.follow) return printJson(piece);
  process.stdout.write(piece.text);
  while (values.follow) {
    await new Promise((r) => setTimeout(r, 500));
    piece = await client.machines.logs(positionals[0], { from: piece.next });
    process.stdout.write(piece.text);
  }
}

/** `--user-data FILE`: its text, refused here when it is not YAML cloud-config (the server checks again). */
function readUserData(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`--user-data ${file}: no such file`, 2);
  }
  const problem = userDataProblem(text);
  if (problem) throw new CliError(`--user-data ${file} is ${problem}`, 2);
  return text;
}
