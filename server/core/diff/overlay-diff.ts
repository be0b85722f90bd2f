import fs from 'node:fs';
import path from 'node:path';
import type { DiffEntry } from '@/lib/contracts/diff';
import { run } from '@/server/drivers/exec';
import { compare, escapePath } from './meta';
import { OverlayView } from './overlay-view';

/** Opaque directories of frozen layers (they never change once a checkpoint wrote them), by layer path. */
const frozenOpaque = new Map<string, string[]>();

/**
 * A layer's opaque directories (trusted.overlay.opaque, or user.overlay.opaque for unprivileged
 * overlays), in one getfattr walk. `mutable`: a machine's live upper dir, not cached.
 */
async function opaqueDirs(layer: string, mutable: boolean): Promise<string[]> {
  const known = mutable ? undefined : frozenOpaque.get(layer);
  if (known) return known;
  const r = await run(['getfattr', '-R', '-P', '--absolute-names', '-d', '-m', '^(trusted|user)\\.overlay\\.opaque$', '--', layer], {
    timeoutMs: 10 * 60_000,
    maxOutputBytes: 64 * 2 ** 20,
  });
  if (r.code !== 0 && !r.stdout) throw new Error(`reading the layer ${layer} failed: ${r.stderr.trim().split('\n')[0] ?? 'getfattr failed'}`);
  const dirs: string[] = [];
  let file: string | null = null;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice(8);
    else if (file && /^(trusted|user)\.overlay\.opaque="y"$/.test(line)) dirs.push(path.resolve(file));
  }
  if (!mutable) frozenOpaque.set(layer, dirs);
  return dirs;
}

/** Every path (relative, '' excluded) in one layer directory, walked fully. */
function walkLayer(dir: string, into: Set<string>): number {
  let n = 0;
  const stack = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of ents) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      into.add(r);
      n++;
      if (e.isDirectory()) stack.push(r);
    }
  }
  return n;
}

export interface OverlayDiff {
  entries: DiffEntry[];
  walked: number;
  skippedLayers: number;
  views: { a: OverlayView; b: OverlayView };
}

/**
 * Two stacks of overlay layers compared. Layers both stacks share at the bottom (the image root,
 * the snapshots both descend from) are the same files on both sides, so only the layers above
 * them are walked: every path they hold is looked up on both sides. Where one side has a
 * directory the other has not (or an opaque one), that directory's merged tree is walked too.
 */
export async function diffLayers(
  a: string[],
  b: string[],
  mutable: Set<string>,
  opts: { fullWalk?: boolean; mtimeSlackMs?: number } = {},
): Promise<OverlayDiff> {
  let shared = 0;
  // fullWalk: every layer of both walked (the baseline the benchmark compares with).
  while (!opts.fullWalk && shared < a.length && shared < b.length && path.resolve(a[shared]) === path.resolve(b[shared])) shared++;
  const opaque = new Set<string>();
  // The bottom layer's opaque flags hide nothing: there is nothing below it.
  for (const layer of new Set([...a.slice(1), ...b.slice(1)])) for (const d of await opaqueDirs(layer, mutable.has(layer))) opaque.add(d);
  const views = { a: new OverlayView(a, opaque), b: new OverlayView(b, opaque) };
  const candidates = new Set<string>();
  let walked = 0;
  for (const layer of [...a.slice(shared), ...b.slice(shared)]) walked += walkLayer(layer, candidates);
  const topA = new Set(a.map((_, i) => i).filter((i) => i >= shared));
  const topB = new Set(b.map((_, i) => i).filter((i) => i >= shared));
  const entries: DiffEntry[] = [];
  const seen = new Set<string>();
  const queue = [...candidates];
  while (queue.length) {
    const rel = queue.pop()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    const fa = views.a.lookup(rel);
    const fb = views.b.lookup(rel);
    if (fa && fb && fa.dev === fb.dev && fa.ino === fb.ino && fa.meta.type !== 'dir') continue;
    const e = compare(`/${escapePath(rel)}`, fa?.meta ?? null, fb?.meta ?? null, opts.mtimeSlackMs);
    if (e) entries.push(e);
    // A directory only one side has (or an opaque one, hiding what was below): its whole merged tree.
    const dirA = fa?.meta.type === 'dir';
    const dirB = fb?.meta.type === 'dir';
    const expand = dirA !== dirB || (dirA && dirB && (views.a.isOpaqueIn(rel, topA) || views.b.isOpaqueIn(rel, topB)));
    if (expand) {
      const names = new Set([...views.a.names(rel), ...views.b.names(rel)]);
      for (const n of names) queue.push(`${rel}/${n}`);
      walked += names.size;
    }
  }
  return { entries, walked, skippedLayers: shared, views };
}
