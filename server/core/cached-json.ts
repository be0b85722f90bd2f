import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export type Encoding = 'br' | 'gzip';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** Smaller bodies go as they are: compressing them costs more than it saves. */
export const COMPRESS_MIN_BYTES = 1024;

/**
 * A JSON body as it is sent: the text, its ETag, and its compressed forms, each made once (on
 * the thread pool, so a 300 KB list never holds up the event loop) and kept for as long as the
 * body is. Caches (the machine list) keep these; other answers make one per response.
 */
export class CachedJson {
  private tag: string | undefined;
  private readonly packed = new Map<Encoding, Promise<Buffer>>();

  constructor(readonly json: string) {}

  /** A weak validator: the same JSON sent compressed or not is the same resource. */
  get etag(): string {
    return (this.tag ??= `W/"${createHash('sha1').update(this.json).digest('base64url')}"`);
  }

  get compressible(): boolean {
    return this.json.length >= COMPRESS_MIN_BYTES;
  }

  encoded(enc: Encoding): Promise<Buffer> {
    let p = this.packed.get(enc);
    if (!p) {
      // Quality 5 (of 11) for brotli: within a few per cent of the best for JSON at a fraction of the time.
      p = enc === 'br' ? brotli(this.json, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }) : gzip(this.json);
      this.packed.set(enc, p);
      // A failed compression is not kept: the next request tries again (or gets the plain body).
      p.catch(() => this.packed.delete(enc));
    }
    return p;
  }
}

/** The encoding to answer with, from an Accept-Encoding header: brotli, then gzip; none when neither is acceptable. */
export function pickEncoding(acceptEncoding: string | undefined | null): Encoding | null {
  if (!acceptEncoding) return null;
  let gz = false;
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    if (name === 'br') return 'br';
    if (name === 'gzip' || name === '*') gz = true;
  }
  return gz ? 'gzip' : null;
}

/** True when an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(ifNoneMatch: string | undefined | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  const mine = opaque(etag);
  return ifNoneMatch.split(',').some((t) => opaque(t) === mine);
}
