import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline, Transform, Writable, type Readable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { JobContext } from '../jobs';
import type { ObjectStore } from './object-store';
import { checkpointQuiet } from '../quiet-gate';

/** Counts and hashes what passes through it. */
function tap(onChunk: (b: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        onChunk(chunk);
      } catch (err) {
        return cb(err as Error);
      }
      // Reading stops while a guest is paused for a checkpoint (quiet-gate.ts).
      if (checkpointQuiet.busy) void checkpointQuiet.idle().then(() => cb(null, chunk));
      else cb(null, chunk);
    },
  });
}

/**
 * Upload a file to `key`, gzip-compressed on the way (no copy on the local disk), hashing what is
 * read: a file that is not the one summed beforehand (`sha256`) is removed again and refused.
 * Returns the stored (compressed) size.
 */
export async function uploadFile(
  store: ObjectStore,
  key: string,
  file: string,
  sha256: string,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<number> {
  const hash = createHash('sha256');
  let stored = 0;
  // The callback form returns the last stream for the store to read; an error anywhere destroys it, failing the upload.
  const body: Readable = pipeline(
    fs.createReadStream(file, { highWaterMark: 1 << 20 }),
    tap((b) => {
      hash.update(b);
      onBytes(b.length);
    }),
    createGzip({ level: 1 }),
    tap((b) => (stored += b.length)),
    () => undefined,
  );
  await store.put(key, body, signal);
  if (hash.digest('hex') !== sha256) {
    await store.remove(key).catch(() => undefined);
    throw new Error(`${file} changed while it was uploaded`);
  }
  return stored;
}

const ZERO = Buffer.alloc(1 << 16);
/** All zeros, by memcmp against a zero buffer (a loop over the bytes would cost seconds per guest). */
export const isZero = (b: Buffer): boolean => {
  for (let i = 0; i < b.length; i += ZERO.length) {
    const part = b.subarray(i, i + ZERO.length);
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
};

/** Writes a file leaving runs of zeros as holes (a guest's RAM is mostly untouched), then sets its size. */
class SparseFile extends Writable {
  private pos = 0;
  constructor(private readonly fd: number) {
    super({ highWaterMark: 1 << 20 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const at = this.pos;
    this.pos += chunk.length;
    if (isZero(chunk)) return cb();
    fs.write(this.fd, chunk, 0, chunk.length, at, (err) => cb(err));
  }
  override _final(cb: (err?: Error | null) => void): void {
    fs.ftruncate(this.fd, this.pos, (err) => cb(err));
  }
}

/**
 * Download `key` into `out`, uncompressed, and check it is what the manifest says (size and
 * SHA-256) before anyone uses it; a damaged or missing object throws a message naming it.
 */
export async function downloadFile(
  store: ObjectStore,
  key: string,
  out: string,
  want: { sha256: string; size: number },
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  const fd = fs.openSync(out, 'w', 0o600);
  try {
    await pipe(
      await store.get(key),
      createGunzip({ chunkSize: 1 << 16 }),
      tap((b) => {
        size += b.length;
        if (size > want.size) throw new Error('longer than the manifest says');
        hash.update(b);
        onBytes(b.length);
      }),
      new SparseFile(fd),
      { signal },
    );
  } catch (err) {
    if ((err as Error).name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR') throw err;
    throw new Error(`${key} is damaged (${(err as Error).message})`, { cause: err });
  } finally {
    fs.closeSync(fd);
  }
  if (size !== want.size) throw new Error(`${key} is damaged (${size} bytes, the manifest says ${want.size})`);
  if (hash.digest('hex') !== want.sha256) throw new Error(`${key} is damaged (checksum mismatch)`);
}

/** A small object (a manifest) whole, as text. */
export async function readSmall(store: ObjectStore, key: string, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of await store.get(key)) {
    n += (c as Buffer).length;
    if (n > limit) throw new Error(`${key} is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Progress that only goes out when the whole percent changes: uploads report every megabyte. */
export function stepper(ctx: JobContext, from: number, to: number, total: number, what: string) {
  let done = 0;
  let last = -1;
  return (n: number) => {
    done += n;
    const pct = Math.floor(from + ((to - from) * done) / Math.max(total, 1));
    if (pct > last) {
      last = pct;
      ctx.progress(Math.min(pct, to), `${what} ${MiB(done)} of ${MiB(total)}`);
    }
  };
}
