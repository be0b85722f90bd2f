/**
 * Tests' own tar writer: entries that no well-behaved tar would write (`../x`, absolute names,
 * device nodes), byte for byte as a hostile archive would carry them.
 */
export interface FixtureEntry {
  name: string;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' dir. */
  type?: string;
  mode?: number;
  data?: string | Buffer;
  link?: string;
  dev?: [number, number];
}

const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, '0')}\0`;

export function tarHeader(e: FixtureEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(1_700_000_000, 12), 136, 'latin1');
  h.write(' '.repeat(8), 148, 'latin1');
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.link) h.write(e.link, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  h.write(octal(e.dev?.[0] ?? 0, 8), 329, 'latin1');
  h.write(octal(e.dev?.[1] ?? 0, 8), 337, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A whole archive: each entry's header and data, then the two zero blocks of its end. */
export function tarOf(entries: FixtureEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(tarHeader(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
