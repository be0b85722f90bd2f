import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { run } from '@/server/drivers/exec';

/**
 * Tests and benches only: debugfs -w commands applied to a qcow2 overlay through a writable FUSE
 * export of it, so the overlay holds only the clusters the change wrote (as a guest's writes
 * would), not a copy of everything (qemu-img convert -B).
 */
export async function editQcow2(qcow2: string, debugfsCommands: string[], tmpDir: string): Promise<void> {
  const mnt = `${tmpDir}/edit-${Date.now().toString(36)}.raw`;
  fs.writeFileSync(mnt, '');
  const blockdev = { driver: 'qcow2', 'node-name': 'disk', file: { driver: 'file', filename: qcow2 } };
  const child = spawn(
    'qemu-storage-daemon',
    ['--blockdev', JSON.stringify(blockdev), '--export', `type=fuse,id=e,node-name=disk,mountpoint=${mnt},writable=on`],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const end = Date.now() + 15_000;
    while (!fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} fuse`)) {
      if (Date.now() > end) throw new Error('the writable export did not come up');
      await new Promise((r) => setTimeout(r, 10));
    }
    const cmds = `${mnt}.cmds`;
    fs.writeFileSync(cmds, `${debugfsCommands.join('\n')}\n`);
    const r = await run(['/usr/sbin/debugfs', '-w', '-f', cmds, mnt], { timeoutMs: 300_000, env: { DEBUGFS_PAGER: '__none__' } });
    fs.rmSync(cmds);
    if (r.code !== 0) throw new Error(`debugfs -w: ${r.stderr}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(mnt, { force: true });
  }
}
