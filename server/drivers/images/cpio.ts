/** One member of an initramfs: a directory, a file, or a symlink. Owner is root. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/**
 * The "newc" cpio format the kernel unpacks as an initramfs. Written here so building an
 * image needs no root, no mounts and no external archiver.
 */
export function writeCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Buffer) => {
    const nameBuf = Buffer.from(`${name}\0`, 'utf8');
    const header =
      '070701' +
      hex8(ino++) +
      hex8(mode) +
      hex8(0) +
      hex8(0) +
      hex8(mode & S_IFDIR ? 2 : 1) +
      hex8(0) +
      hex8(data.length) +
      hex8(0) +
      hex8(0) +
      hex8(0) +
      hex8(0) +
      hex8(nameBuf.length) +
      hex8(0);
    parts.push(Buffer.from(header, 'ascii'), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)), data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (!name || name.split('/').includes('..')) throw new RangeError(`bad cpio path: ${e.path}`);
    if (e.kind === 'dir') push(name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0));
    else if (e.kind === 'file') push(name, S_IFREG | (e.mode ?? 0o644), e.data);
    else push(name, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8'));
  }
  push('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}
