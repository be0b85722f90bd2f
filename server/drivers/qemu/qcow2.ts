import fs from 'node:fs';
import path from 'node:path';

/**
 * The backing file a qcow2 image names in its header, or null: big-endian magic `QFI\xfb`,
 * backing_file_offset (u64) at 8, backing_file_size (u32) at 16. Read directly: garbage
 * collection walks every chain and should not start a process per layer.
 */
export function backingFile(file: string): string | null {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    if (fs.readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x514649fb) return null;
    const offset = Number(head.readBigUInt64BE(8));
    const size = head.readUInt32BE(16);
    if (!offset || !size || size > 4096) return null;
    const name = Buffer.alloc(size);
    fs.readSync(fd, name, 0, size, offset);
    return path.resolve(path.dirname(file), name.toString('utf8'));
  } finally {
    fs.closeSync(fd);
  }
}

/** A qcow2 file and everything below it, top first; stops at a missing or non-qcow2 file (a directory layer is itself alone). */
export function backingChain(file: string): string[] {
  const chain: string[] = [];
  for (let f: string | null = path.resolve(file); f && !chain.includes(f) && fs.existsSync(f); f = fs.statSync(f).isFile() ? backingFile(f) : null)
    chain.push(f);
  return chain;
}
