/**
 * A streaming check of a tar archive's member names, so that extracting it stays inside its
 * destination: no absolute names, no `..` component, no hard link pointing out, and no member
 * written through a symbolic link that the same archive made (`a -> /etc`, then `a/passwd`).
 * Used both ways by `hangar cp`: the server checks what goes into a guest and what comes out of
 * one (a guest is not trusted to write on the caller's disk), and the CLI checks again.
 * Reads ustar, GNU long names (L, K) and pax headers (x); the data is never kept.
 */

export class UnsafeTarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeTarError';
  }
}

const BLOCK = 512;
/** Long names and pax headers are collected; past this they are refused (no name is that long). */
const MAX_META = 1024 * 1024;
const decoder = new TextDecoder();

const cstr = (b: Uint8Array, from: number, len: number): string => {
  const part = b.subarray(from, from + len);
  const end = part.indexOf(0);
  return decoder.decode(end === -1 ? part : part.subarray(0, end));
};

function sizeOf(h: Uint8Array): number {
  // GNU base-256 for sizes over 8 GiB: the high bit of the first byte set.
  if (h[124] & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i];
    return n;
  }
  const s = cstr(h, 124, 12).trim();
  if (s && !/^[0-7]+$/.test(s)) throw new UnsafeTarError('Not a tar archive (a member size is not octal).');
  return s ? parseInt(s, 8) : 0;
}

/** A member's path as its parts, or why it would leave the destination. */
export function memberParts(name: string): string[] {
  if (name.startsWith('/')) throw new UnsafeTarError(`Refused: "${name}" is an absolute path in the archive.`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeTarError(`Refused: "${name}" would be written outside the destination (..).`);
  return parts;
}

function paxPath(data: Uint8Array, key: string): string | undefined {
  // Records are "LEN KEY=VALUE\n"; LEN counts the whole record.
  let at = 0;
  let found: string | undefined;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(decoder.decode(data.subarray(at, space)));
    if (!Number.isInteger(len) || len <= 0) throw new UnsafeTarError('Not a tar archive (a bad pax header).');
    const rec = decoder.decode(data.subarray(space + 1, at + len - 1));
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === key) found = rec.slice(eq + 1);
    at += len;
  }
  return found;
}

export class TarChecker {
  private header = new Uint8Array(BLOCK);
  private filled = 0;
  /** Bytes of member data (with padding) still to pass over. */
  private skip = 0;
  /** A long name or pax header being collected: its kind, its bytes, how many are left and then the padding. */
  private meta: { type: string; parts: Uint8Array[]; left: number; pad: number } | null = null;
  private next: { path?: string; link?: string } = {};
  private readonly symlinks = new Set<string>();
  members = 0;

  /** Feed the next bytes of the archive; throws an UnsafeTarError on a member that would land outside. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
      } else if (this.meta) {
        const m = this.meta;
        const n = Math.min(m.left, chunk.length - at);
        m.parts.push(chunk.slice(at, at + n));
        m.left -= n;
        at += n;
        if (m.left === 0) {
          this.endMeta(m);
          this.meta = null;
          this.skip = m.pad;
        }
      } else {
        const n = Math.min(BLOCK - this.filled, chunk.length - at);
        this.header.set(chunk.subarray(at, at + n), this.filled);
        this.filled += n;
        at += n;
        if (this.filled === BLOCK) {
          this.filled = 0;
          this.onHeader(this.header);
        }
      }
    }
  }

  private endMeta(m: { type: string; parts: Uint8Array[] }) {
    const total = m.parts.reduce((a, p) => a + p.length, 0);
    const data = new Uint8Array(total);
    let off = 0;
    for (const p of m.parts) {
      data.set(p, off);
      off += p.length;
    }
    if (m.type === 'L') this.next.path = cstr(data, 0, data.length);
    else if (m.type === 'K') this.next.link = cstr(data, 0, data.length);
    else if (m.type === 'x') {
      const p = paxPath(data, 'path');
      const l = paxPath(data, 'linkpath');
      if (p !== undefined) this.next.path = p;
      if (l !== undefined) this.next.link = l;
    } else if (m.type === 'g' && paxPath(data, 'path') !== undefined) {
      throw new UnsafeTarError('Refused: a global pax header sets a path for every member.');
    }
  }

  private onHeader(h: Uint8Array) {
    if (h.every((b) => b === 0)) return; // the end marker (two zero blocks)
    const type = String.fromCharCode(h[156] || 0x30);
    const size = sizeOf(h);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if ('LKxg'.includes(type)) {
      if (size > MAX_META) throw new UnsafeTarError('Refused: a long name or pax header over 1 MiB.');
      this.meta = { type, parts: [], left: size, pad: padded - size };
      if (size === 0) {
        this.endMeta(this.meta);
        this.meta = null;
      }
      return;
    }
    const ustar = cstr(h, 257, 6).startsWith('ustar');
    const prefix = ustar ? cstr(h, 345, 155) : '';
    const name = this.next.path ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const link = this.next.link ?? cstr(h, 157, 100);
    this.next = {};
    const parts = memberParts(name);
    // A member under a symbolic link made earlier in this archive would be written wherever it points.
    for (let i = 1; i < parts.length; i++) {
      if (this.symlinks.has(parts.slice(0, i).join('/')))
        throw new UnsafeTarError(`Refused: "${name}" would be written through the symbolic link "${parts.slice(0, i).join('/')}".`);
    }
    const key = parts.join('/');
    if (type === '2') this.symlinks.add(key);
    else this.symlinks.delete(key);
    if (type === '1') memberParts(link);
    this.members++;
    // Links, directories and devices carry no data whatever their size field says (hard links: GNU tar writes 0).
    this.skip = '123456'.includes(type) ? 0 : padded;
  }
}
