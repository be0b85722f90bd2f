import path from 'node:path';
import { run } from '../exec';

type Range = [start: number, end: number];

async function json<T>(argv: string[]): Promise<T> {
  const r = await run(argv, { timeoutMs: 120_000, maxOutputBytes: 256 * 2 ** 20 });
  if (r.code !== 0) throw new Error(`${argv[0]} ${argv[1]} failed: ${r.stderr.trim().split('\n')[0]}`);
  return JSON.parse(r.stdout) as T;
}

/** A qcow2 file and the ones below it, top first. */
async function chain(file: string): Promise<string[]> {
  const info = await json<{ filename: string }[]>(['qemu-img', 'info', '--backing-chain', '--output=json', '-U', '--', file]);
  return info.map((i) => path.resolve(path.dirname(file), i.filename));
}

/**
 * Guest byte ranges whose data lives in the top `own` layers of `file` (what those layers wrote).
 * Zero clusters are left out: `qemu-img convert -B` marks every zero region so, changed or not, and
 * an inode slot zeroed on one side lists differently there anyway (then it is read, not skipped).
 */
async function writtenAbove(file: string, own: number): Promise<Range[]> {
  const map = await json<{ start: number; length: number; depth: number; data: boolean; zero: boolean }[]>([
    'qemu-img',
    'map',
    '--output=json',
    '-U',
    '--',
    file,
  ]);
  return map.filter((e) => e.depth < own && e.data).map((e) => [e.start, e.start + e.length]);
}

/**
 * Where two disks can differ, in guest bytes: what the layers above the chain both share wrote
 * (the base's clusters are the same bytes on both sides). null: they share no layer, anything may.
 */
export async function changedRanges(a: string, b: string): Promise<Range[] | null> {
  const [ca, cb] = await Promise.all([chain(a), chain(b)]);
  let shared = 0;
  while (shared < ca.length && shared < cb.length && ca[ca.length - 1 - shared] === cb[cb.length - 1 - shared]) shared++;
  if (!shared) return null;
  const [ra, rb] = await Promise.all([writtenAbove(a, ca.length - shared), writtenAbove(b, cb.length - shared)]);
  return [...ra, ...rb].sort((x, y) => x[0] - y[0]);
}

/** Whether [start, end) meets any of the sorted ranges. */
export function touches(ranges: Range[], start: number, end: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  // The first range ending after start.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid][1] <= start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < ranges.length && ranges[i][0] < end; i++) if (ranges[i][1] > start) return true;
  return false;
}
