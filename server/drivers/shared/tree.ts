import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../exec';

/** Mount points at or under `dir`, deepest first (debootstrap mounts /proc, /sys and /dev in its target). */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const root = path.resolve(dir);
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === root || m.startsWith(root + '/')))
    .sort((a, b) => b.length - a.length);
}

/** Never `rm -r` a tree with the host's /proc or /dev mounted inside it: unmount first. */
export async function removeTree(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) await run(['umount', '-l', m], { timeoutMs: 30_000 });
  if (mountsUnder(dir).length > 0) throw new Error(`refusing to remove ${dir}: it still has mounts inside`);
  await fs.rm(dir, { recursive: true, force: true });
}
