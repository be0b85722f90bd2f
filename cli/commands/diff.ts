import { parseArgs } from 'node:util';
import { ApiError, createApiClient, type ApiClient } from '@/lib/api-client';
import type { DiffEntry, DiffResult, FileMeta } from '@/lib/contracts/diff';
import { isValidId } from '@/lib/contracts/common';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const MARK: Record<DiffEntry['change'], string> = { added: 'A', removed: 'D', changed: 'M' };
const mode = (m: FileMeta) => `0${m.mode.toString(8)}`;

/** What changed about one entry, in words: "size 4 B → 8 B, mode 0644 → 0600". */
export function describeEntry(e: DiffEntry): string {
  const b = e.before;
  const a = e.after;
  if (!b || !a) return `${(a ?? b)!.type}${(a ?? b)!.type === 'file' ? `, ${formatBytes((a ?? b)!.size)}` : ''}`;
  return e.fields
    .map((f) => {
      if (f === 'size') return `size ${formatBytes(b.size)} → ${formatBytes(a.size)}`;
      if (f === 'mode') return `mode ${mode(b)} → ${mode(a)}`;
      if (f === 'owner') return `owner ${b.uid}:${b.gid} → ${a.uid}:${a.gid}`;
      if (f === 'type') return `${b.type} → ${a.type}`;
      if (f === 'target') return `target ${b.target} → ${a.target}`;
      return 'mtime';
    })
    .join(', ');
}

/**
 * hangar diff SNAP_A SNAP_B | hangar diff MACHINE [SNAP]: files added (A), removed (D) and
 * changed (M); --path FILE prints that file's unified diff. A machine's side is its files now.
 */
export async function diff(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { path: { type: 'string', short: 'p' }, limit: { type: 'string' } },
  });
  const [first, second] = positionals;
  if (!first || positionals.length > 2) throw new CliError('usage: hangar diff SNAP_A SNAP_B | hangar diff MACHINE [SNAP] [--path FILE] [--limit N]');
  const limit = values.limit ? Number(values.limit) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new CliError('--limit takes a positive whole number');
  const client = api();
  const o = { limit, path: values.path };
  const found = (p: Promise<unknown>) =>
    p.then(
      () => true,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      },
    );
  // Like fork: a snapshot id, then a machine name, then a snapshot label (a machine wins over a label).
  const isSnapshot = (isValidId(first) && (await found(client.snapshots.get(first)))) || !(await found(client.machines.get(first)));
  let r: DiffResult;
  if (isSnapshot) {
    if (!second) throw new CliError(`${first} is a snapshot: name the second one (hangar diff SNAP_A SNAP_B)`);
    r = await client.snapshots.diff(first, second, o);
  } else r = await client.snapshots.diffMachine(first, { ...o, against: second });
  if (json) return printJson(r);
  if (r.file) {
    if (r.file.unified) process.stdout.write(r.file.unified);
    else console.log(`${r.file.path}: ${r.file.reason}`);
    return;
  }
  console.log(`# ${r.a.label} → ${r.b.label}${r.sameImage ? '' : ` (different images: ${r.a.image}, ${r.b.image})`}`);
  for (const e of r.entries) console.log(`${MARK[e.change]}  ${e.path}  ${describeEntry(e)}`);
  const c = r.counts;
  const more = r.truncated ? ` (first ${r.entries.length} shown: --limit N for more)` : '';
  console.log(`# ${c.added} added, ${c.removed} removed, ${c.changed} changed in ${(r.elapsedMs / 1000).toFixed(2)} s${more}`);
}
