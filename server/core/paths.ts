import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout Hangar runs from: found by walking up to package.json (works from dist/ and from sources). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'db', 'migrations'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export function defaultDataDir(): string {
  return process.env.HANGAR_DATA || path.join(process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'hangar');
}

/**
 * Resolve `parts` under `base` and refuse anything that lands outside it (`..`, absolute
 * parts, NUL bytes). Every path built from user input goes through here.
 */
export function resolveInside(base: string, ...parts: string[]): string {
  if (parts.some((p) => p.includes('\0'))) throw new RangeError('path contains a NUL byte');
  const root = path.resolve(base);
  const p = path.resolve(root, ...parts);
  if (p !== root && !p.startsWith(root + path.sep)) throw new RangeError(`path escapes ${root}`);
  return p;
}

/** Where things live under the data dir. */
export function dataLayout(dataDir: string) {
  const d = path.resolve(dataDir);
  return {
    root: d,
    db: path.join(d, 'hangar.db'),
    probe: path.join(d, 'tmp', 'probe'),
    /** Guest kernels extracted from Debian's package (a cache: images copy what they boot); with HANGAR_CACHE, shared between data dirs. */
    kernels: process.env.HANGAR_CACHE ? path.join(path.resolve(process.env.HANGAR_CACHE), 'kernels') : path.join(d, 'kernels'),
    images: path.join(d, 'images'),
    /** The ISO library (see isos/service.ts). */
    isos: path.join(d, 'isos'),
    machines: path.join(d, 'machines'),
    layers: path.join(d, 'layers'),
    snapshots: path.join(d, 'snapshots'),
    /** Copies of snapshots other nodes hold (a cluster: see cluster/replicas.ts). */
    replicas: path.join(d, 'replicas'),
    /** Downloads worth keeping between builds (packages); HANGAR_CACHE shares one between data dirs. */
    cache: process.env.HANGAR_CACHE ? path.resolve(process.env.HANGAR_CACHE) : path.join(d, 'cache'),
  };
}

/** Up to `tail` bytes of a log file from `from` (or its end), and where to go on from; an absent log is empty. */
export function readLogPiece(file: string, q: { from?: number; tail: number }): { text: string; next: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { text: '', next: 0, size: 0 };
  }
  try {
    const size = fs.fstatSync(fd).size;
    // A log rotated since the last read starts over.
    const start = q.from === undefined ? Math.max(0, size - q.tail) : q.from > size ? 0 : q.from;
    const buf = Buffer.alloc(Math.min(q.tail, size - start));
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    return { text: buf.subarray(0, n).toString('utf8'), next: start + n, size };
  } finally {
    fs.closeSync(fd);
  }
}
