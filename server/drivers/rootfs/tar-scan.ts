/**
 * A tar archive read header by header before anything of it is written to disk: every entry is
 * judged against what a root filesystem confined to its own directory may hold. GNU tar then
 * extracts the same bytes (see extract.ts); this check is what makes that safe, and what gives
 * the caller a clear reason instead of a half-unpacked tree.
 */

/** Why an archive is refused: said to the user as it is. */
export class TarRefusal extends Error {}

export interface ScanRules {
  /** Keep setuid/setgid files (an OS image's su, passwd, mount); refused otherwise. */
  allowSetuid: boolean;
}

export interface ScanResult {
  entries: number;
  /** Room the tree takes once unpacked: file data in 4 KiB blocks, and a block per other entry. */
  diskBytes: number;
  /** Bytes of the uncompressed archive (headers and data): what extraction's progress counts. */
  tarBytes: number;
  /** Setuid/setgid files kept (with allowSetuid). */
  setuid: number;
}

/** The device nodes a root filesystem may bring: the ones every container gets anyway (major:minor). */
const ALLOWED_DEVICES = new Map([
  ['dev/null', '1:3'],
  ['dev/zero', '1:5'],
  ['dev/full', '1:7'],
  ['dev/random', '1:8'],
  ['dev/urandom', '1:9'],
  ['dev/tty', '5:0'],
  ['dev/console', '5:1'],
  ['dev/ptmx', '5:2'],
]);

const DEVICE_NAMES = '/dev/null, zero, full, random, urandom, tty, console and ptmx';

const BLOCK = 512;
const FILE_TYPES = new Set(['0', '\0', '7']);
const KNOWN_TYPES = new Set(['0', '\0', '7', '1', '2', '3', '4', '5', '6']);
const TYPE_NAMES: Record<string, string> = { S: 'a GNU sparse file', V: 'a volume label', M: 'a multi-volume continuation', D: 'a GNU dump directory' };

const cstr = (b: Buffer, from: number, len: number): string => {
  const s = b.subarray(from, from + len);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? s.length : end).toString('utf8');
};

/** A numeric field: octal text, or GNU's base-256 (high bit set) for values octal cannot hold. */
function num(b: Buffer, from: number, len: number): number {
  if (b[from] & 0x80) {
    let v = b[from] & 0x7f;
    for (let i = from + 1; i < from + len; i++) v = v * 256 + b[i];
    return v;
  }
  const t = cstr(b, from, len).trim();
  return t ? parseInt(t, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === num(h, 148, 8);
}

/** `path=...` records of a pax header. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const sp = data.indexOf(32, at);
    if (sp < 0) break;
    const len = Number(data.subarray(at, sp).toString());
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) throw new TarRefusal('a corrupt pax header');
    const rec = data.subarray(sp + 1, at + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

/** The entry's path relative to the image root (`./etc/x` -> `etc/x`), or a refusal for one that could leave it. */
export function confinedPath(name: string, what = 'entry'): string {
  if (name.startsWith('/')) throw new TarRefusal(`${what} ${JSON.stringify(name)} is an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new TarRefusal(`${what} ${JSON.stringify(name)} goes up out of the image root (..)`);
  return parts.join('/');
}

/**
 * Fed the uncompressed archive in chunks of any size; throws TarRefusal at the first entry a
 * confined root may not hold, or for bytes that are not (or no longer) a tar archive.
 */
export class TarScanner {
  private buf: Buffer = Buffer.alloc(0);
  /** Data bytes still to skip (or to collect, for pax and GNU long-name records). */
  private skip = 0;
  private collect: { type: string; size: number; parts: Buffer[]; got: number } | null = null;
  private pending: { path?: string; linkpath?: string; size?: number } = {};
  private readonly symlinks = new Set<string>();
  private ended = false;
  private zeros = 0;
  private readonly r: ScanResult = { entries: 0, diskBytes: 0, tarBytes: 0, setuid: 0 };

  constructor(private readonly rules: ScanRules) {}

  push(chunk: Buffer): void {
    this.r.tarBytes += chunk.length;
    if (this.ended) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let at = 0;
    while (!this.ended) {
      if (this.collect) {
        const want = Math.min(this.collect.size - this.collect.got, this.buf.length - at);
        this.collect.parts.push(this.buf.subarray(at, at + want));
        this.collect.got += want;
        at += want;
        if (this.collect.got < this.collect.size) break;
        this.finishRecord(this.collect.type, Buffer.concat(this.collect.parts));
        this.skip = pad(this.collect.size) - this.collect.size;
        this.collect = null;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length - at);
        this.skip -= n;
        at += n;
        if (this.skip > 0) break;
        continue;
      }
      if (this.buf.length - at < BLOCK) break;
      this.header(this.buf.subarray(at, at + BLOCK));
      at += BLOCK;
    }
    this.buf = Buffer.from(this.buf.subarray(at));
  }

  /** The stream is over: the archive must have ended as tar archives do (two zero blocks). */
  end(): ScanResult {
    if (this.r.entries === 0 && !this.ended) throw new TarRefusal('not a tar archive (empty)');
    if (!this.ended) throw new TarRefusal('the archive is truncated: it stops before its end-of-archive marker');
    return { ...this.r };
  }

  private header(h: Buffer): void {
    if (h.every((x) => x === 0)) {
      if (this.r.entries === 0 && this.zeros === 0 && !this.pendingAny()) throw new TarRefusal('not a tar archive (it starts with zeros)');
      if (++this.zeros === 2) this.ended = true;
      return;
    }
    if (this.zeros) throw new TarRefusal('not a tar archive (data after an end-of-archive block)');
    if (!checksumOk(h)) throw new TarRefusal(this.r.entries === 0 ? 'not a tar archive' : `a corrupt tar header after ${this.r.entries} entries`);
    const type = String.fromCharCode(h[156] || 48);
    const size = num(h, 124, 12);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > 16 * 2 ** 20) throw new TarRefusal(`a ${size}-byte extended header`);
      this.collect = { type, size, parts: [], got: 0 };
      return;
    }
    const ustar = cstr(h, 257, 6).startsWith('ustar');
    const prefix = ustar ? cstr(h, 345, 155) : '';
    const rawName = this.pending.path ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const link = this.pending.linkpath ?? cstr(h, 157, 100);
    const dataSize = this.pending.size ?? size;
    this.pending = {};
    this.entry(type, rawName, link, num(h, 100, 8), dataSize, `${num(h, 329, 8)}:${num(h, 337, 8)}`);
    this.skip = FILE_TYPES.has(type) ? pad(dataSize) : 0;
  }

  private pendingAny(): boolean {
    return Object.keys(this.pending).length > 0;
  }

  private finishRecord(type: string, data: Buffer): void {
    if (type === 'L') this.pending.path = cstr(data, 0, data.length);
    else if (type === 'K') this.pending.linkpath = cstr(data, 0, data.length);
    else if (type === 'x') {
      const rec = paxRecords(data);
      if (rec.has('path')) this.pending.path = rec.get('path');
      if (rec.has('linkpath')) this.pending.linkpath = rec.get('linkpath');
      if (rec.has('size')) this.pending.size = Number(rec.get('size'));
      if (rec.has('GNU.sparse.major') || rec.has('GNU.sparse.map')) throw new TarRefusal('a GNU sparse file (not supported)');
    }
    // `g` (global pax records) carry defaults such as mtime: nothing to judge.
  }

  private entry(type: string, rawName: string, link: string, mode: number, size: number, dev: string): void {
    if (!KNOWN_TYPES.has(type)) throw new TarRefusal(`entry ${JSON.stringify(rawName)} is ${TYPE_NAMES[type] ?? `of tar type "${type}"`}: not kept`);
    const name = confinedPath(rawName);
    const what = JSON.stringify(rawName);
    if (name === '' && type !== '5') throw new TarRefusal(`entry ${what} is the image root itself, and not a directory`);
    // A path below a symlink of this archive would be written wherever the link points.
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const above = parts.slice(0, i).join('/');
      if (this.symlinks.has(above)) throw new TarRefusal(`entry ${what} would be written through the symlink ${JSON.stringify(above)}`);
    }
    if (this.symlinks.has(name)) throw new TarRefusal(`entry ${what} replaces a symlink written before it`);
    if (type === '1') {
      const target = confinedPath(link, `hard link ${what} ->`);
      const tp = target.split('/');
      for (let i = 1; i <= tp.length; i++)
        if (this.symlinks.has(tp.slice(0, i).join('/')))
          throw new TarRefusal(`hard link ${what} points through the symlink ${JSON.stringify(tp.slice(0, i).join('/'))}`);
    }
    if (type === '2') this.symlinks.add(name);
    if (type === '3' || type === '4') {
      if (ALLOWED_DEVICES.get(name) !== dev || type !== '3')
        throw new TarRefusal(`entry ${what} is a ${type === '3' ? 'character' : 'block'} device (${dev}): a root filesystem may hold only ${DEVICE_NAMES}`);
    }
    if (type !== '5' && mode & 0o6000) {
      if (!this.rules.allowSetuid)
        throw new TarRefusal(`entry ${what} is setuid/setgid (mode ${(mode & 0o7777).toString(8)}): refused unless setuid files are allowed for this import`);
      this.r.setuid++;
    }
    this.r.entries++;
    this.r.diskBytes += FILE_TYPES.has(type) ? Math.ceil(size / 4096) * 4096 || 4096 : 4096;
  }
}

const pad = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

/** The compression by magic bytes, whatever the file is called; plain tar by its ustar magic (or a valid old-style header). */
export function detectCompression(head: Buffer): Compression | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= BLOCK && (head.subarray(257, 262).toString('latin1') === 'ustar' || checksumOk(head.subarray(0, BLOCK)))) return 'none';
  return null;
}
