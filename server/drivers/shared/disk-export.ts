import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec';

const mounted = (file: string) => fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${file} fuse`);

/**
 * A qcow2 chain exposed read-only as one raw file (qemu-storage-daemon's FUSE export), nothing
 * mounted writable and no guest booted. Locks are not taken: a running machine's disk may be
 * read (as of that instant, not consistent while the guest writes). close() unmounts it.
 */
export async function exportDisk(qcow2: string, tmpDir: string): Promise<{ file: string; close: () => Promise<void> }> {
  if (!fs.existsSync(qcow2)) throw new Error(`the disk layer ${path.basename(qcow2)} is gone`);
  const file = path.join(tmpDir, `export-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.raw`);
  fs.writeFileSync(file, '', { mode: 0o600 });
  const blockdev = { driver: 'qcow2', 'node-name': 'disk', 'read-only': true, 'force-share': true, file: { driver: 'file', filename: qcow2, locking: 'off' } };
  const child = spawn(
    'qemu-storage-daemon',
    ['--blockdev', JSON.stringify(blockdev), '--export', `type=fuse,id=exp,node-name=disk,mountpoint=${file},writable=off`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', (err) => (stderr += String(err)));
  const close = async () => {
    if (!exited) child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (!exited) child.kill('SIGKILL');
    // A daemon killed hard leaves its mount behind: never leave one.
    if (mounted(file)) await run(['umount', '-l', file], { timeoutMs: 10_000 });
    fs.rmSync(file, { force: true });
  };
  const end = Date.now() + 15_000;
  while (!mounted(file)) {
    if (exited || Date.now() > end) {
      await close();
      throw new Error(`reading the disk layer ${path.basename(qcow2)} failed: ${stderr.trim().split('\n')[0] || 'qemu-storage-daemon did not export it'}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { file, close };
}

/** Where the ext filesystem starts: the whole disk, or the first MBR/GPT partition that holds one. */
export function extOffset(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      fs.readSync(fd, b, 0, len, pos);
      return b;
    };
    const isExt = (off: number) => read(off + 1024 + 56, 2).readUInt16LE(0) === 0xef53;
    if (isExt(0)) return 0;
    const mbr = read(0, 512);
    if (mbr.readUInt16LE(510) !== 0xaa55) throw new Error('the disk has no ext filesystem and no partition table');
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const e = 446 + i * 16;
      const type = mbr[e + 4];
      if (type === 0xee) {
        const gpt = read(512, 92);
        const lba = Number(gpt.readBigUInt64LE(72));
        const count = Math.min(gpt.readUInt32LE(80), 256);
        const size = gpt.readUInt32LE(84);
        const table = read(lba * 512, count * size);
        for (let j = 0; j < count; j++) {
          const first = Number(table.readBigUInt64LE(j * size + 32));
          if (first) starts.push(first * 512);
        }
      } else if (type) starts.push(mbr.readUInt32LE(e + 8) * 512);
    }
    const ext = starts.find(isExt);
    if (ext === undefined) throw new Error('no partition of the disk holds an ext filesystem');
    return ext;
  } finally {
    fs.closeSync(fd);
  }
}
