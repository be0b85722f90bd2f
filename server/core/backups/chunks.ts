import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { ObjectStore } from './object-store';
import { isZero } from './transfer';
import { checkpointQuiet } from '../quiet-gate';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Large snapshot files (a guest's RAM) go up in fixed chunks, each content-addressed
 * (`chunks/SHA256`): most of a guest's memory is the same from one snapshot to the next, and
 * untouched memory is zeros, which are not stored at all (sha256 null).
 */
export const CHUNK_BYTES = 2 ** 20;
/** Backups made with 4 MiB chunks (before 1 MiB ones halved what a second backup sends) still restore. */
const MAX_CHUNK_BYTES = 4 * 2 ** 20;
export const chunkKey = (sha: string) => `chunks/${sha}`;

export interface Chunk {
  sha256: string | null;
  size: number;
  stored: number;
}

/**
 * Upload `file` as chunks the target lacks (`present`: key -> stored size, updated here). The
 * bytes read must hash to `sha256` (the file summed before), or the upload is refused.
 */
export async function uploadChunked(
  store: ObjectStore,
  file: string,
  sha256: string,
  present: Map<string, number>,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<{ chunks: Chunk[]; sent: number; sentBytes: number }> {
  const whole = createHash('sha256');
  const chunks: Chunk[] = [];
  let sent = 0;
  let sentBytes = 0;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK_BYTES);
    for (let pos = 0; ;) {
      signal?.throwIfAborted();
      await checkpointQuiet.idle();
      const n = fs.readSync(fd, buf, 0, CHUNK_BYTES, pos);
      if (n === 0) break;
      pos += n;
      const part = buf.subarray(0, n);
      whole.update(part);
      if (isZero(part)) chunks.push({ sha256: null, size: n, stored: 0 });
      else {
        const sha = createHash('sha256').update(part).digest('hex');
        const key = chunkKey(sha);
        if (!present.has(key)) {
          const gz = await gzipAsync(part, { level: 1 });
          await store.put(key, Readable.from([gz]), signal);
          present.set(key, gz.length);
          sent++;
          sentBytes += gz.length;
        }
        chunks.push({ sha256: sha, size: n, stored: present.get(key)! });
      }
      onBytes(n);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (whole.digest('hex') !== sha256) throw new Error(`${file} changed while it was uploaded`);
  return { chunks, sent, sentBytes };
}

/** Rebuild a chunked file in `out` (zeros as holes), each chunk and the whole checked against the manifest. */
export async function downloadChunked(
  store: ObjectStore,
  out: string,
  want: { sha256: string; size: number; chunks: Chunk[] },
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const whole = createHash('sha256');
  const zeros = Buffer.alloc(MAX_CHUNK_BYTES);
  const fd = fs.openSync(out, 'w', 0o600);
  try {
    let pos = 0;
    for (const c of want.chunks) {
      signal?.throwIfAborted();
      if (c.size > MAX_CHUNK_BYTES) throw new Error(`a chunk of ${c.size} bytes is larger than chunks are`);
      if (c.sha256 === null) whole.update(zeros.subarray(0, c.size));
      else {
        const key = chunkKey(c.sha256);
        const parts: Buffer[] = [];
        let n = 0;
        for await (const b of await store.get(key)) {
          n += (b as Buffer).length;
          // gzip never grows data by more than a little: anything larger is not this chunk.
          if (n > c.size + 65_536) throw new Error(`${key} is damaged (too large)`);
          parts.push(b as Buffer);
        }
        const data = await gunzipAsync(Buffer.concat(parts)).catch((err: Error) => {
          throw new Error(`${key} is damaged (${err.message})`);
        });
        if (data.length !== c.size || createHash('sha256').update(data).digest('hex') !== c.sha256) throw new Error(`${key} is damaged (checksum mismatch)`);
        whole.update(data);
        fs.writeSync(fd, data, 0, data.length, pos);
      }
      pos += c.size;
      onBytes(c.size);
    }
    fs.ftruncateSync(fd, pos);
    if (pos !== want.size || whole.digest('hex') !== want.sha256)
      throw new Error(`the chunks of ${want.sha256.slice(0, 12)}… do not make the file (checksum mismatch)`);
  } finally {
    fs.closeSync(fd);
  }
}
