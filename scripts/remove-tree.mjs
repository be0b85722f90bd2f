#!/usr/bin/env node
// Removes a test data dir and everything mounted beneath it (containers-storage keeps an
// overlay mount at oci/storage/overlay, an interrupted image build can leave /proc in its
// rootfs): kill the processes that still name it, unmount deepest first, then delete. Usage: node scripts/remove-tree.mjs DIR...
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Mount points at or below dir, deepest first (from /proc/self/mountinfo; octal escapes decoded). */
function mountsUnder(dir) {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines
    .map((l) => l.split(' ')[4])
    .filter(Boolean)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(dir + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Processes whose command line names a path inside dir (a machine's qemu, a hot snapshot's standby, a
 * container's holder a test left running): killed, so nothing of a test outlives its data dir. Returns
 * what was killed, as "pid name".
 */
function killProcessesNaming(dir) {
  const mark = Buffer.from(dir + '/');
  const killed = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`);
      if (!cmd.includes(mark)) continue;
      process.kill(Number(p), 'SIGKILL');
      killed.push(`${p} ${cmd.subarray(0, cmd.indexOf(0) < 0 ? cmd.length : cmd.indexOf(0)).toString('latin1')}`);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

export function removeTree(dir) {
  const abs = path.resolve(dir);
  if (abs === '/' || !fs.existsSync(abs)) return;
  const killed = killProcessesNaming(abs);
  if (killed.length) console.error(`remove-tree: killed what still ran in ${abs}: ${killed.join(', ')}`);
  for (const p of mountsUnder(abs)) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
  fs.rmSync(abs, { recursive: true, force: true, maxRetries: 3 });
}

for (const d of process.argv.slice(2)) {
  try {
    removeTree(d);
  } catch (e) {
    console.error(`could not remove ${d}: ${e.message}`);
    process.exitCode = 1;
  }
}
