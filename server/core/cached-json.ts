import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export type Encoding = 'br' | 'gzip';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** Smaller bodies go as they are: compressing them costs more than it saves. */
export const COMPRESS_MIN_BYTES = 1024;

/** A body whose text is made when needed and not kept (from parts its maker keeps anyway), with an ETag made from theirs. */
interface JsonParts {
  build(): string;
  etag(): string;
  bytes: number;
}

/**
 * A JSON body as it is sent: the text, its ETag, and its compressed forms, each made once (on
 * the thread pool, so a 300 KB list never holds up the event loop) and kept for as long as the
 * body is. Caches (the machine list) keep these; other answers make one per response. A body
 * `kept` and sent many times (a machine, the whole list) is compressed harder than one made for
 * one answer or a page of the list (gzip level 1 and brotli 1: half the time or less of the
 * defaults, for a page of machines about 15 per cent more bytes).
 */
export class CachedJson {
  private tag: string | undefined;
  private readonly packed = new Map<Encoding, Promise<Buffer>>();

  constructor(
    private readonly src: string | JsonParts,
    private readonly kept = false,
  ) {}

  /** The text (a body made of parts: made again each time). */
  get json(): string {
    return typeof this.src === 'string' ? this.src : this.src.build();
  }

  /** A weak validator: the same JSON sent compressed or not is the same resource. */
  get etag(): string {
    return (this.tag ??= typeof this.src === 'string' ? `W/"${createHash('sha1').update(this.src).digest('base64url')}"` : this.src.etag());
  }

  get compressible(): boolean {
    return (typeof this.src === 'string' ? this.src.length : this.src.bytes) >= COMPRESS_MIN_BYTES;
  }

  encoded(enc: Encoding): Promise<Buffer> {
    let p = this.packed.get(enc);
    if (!p) {
      // Kept bodies: brotli quality 5 (of 11), within a few per cent of the best for JSON at a fraction of the time, and gzip's default.
      const json = this.json;
      p =
        enc === 'br'
          ? brotli(json, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: this.kept ? 5 : 1 } })
          : gzip(json, { level: this.kept ? zlib.constants.Z_DEFAULT_COMPRESSION : 1 });
      this.packed.set(enc, p);
      // A failed compression is not kept: the next request tries again (or gets the plain body).
      p.catch(() => this.packed.delete(enc));
    }
    return p;
  }
}

/**
 * `head`, the kept bodies joined with commas, `tail`: a page of a list whose items' bodies a cache
 * keeps. Its text is not kept (only its compressed forms are, once asked for), and its ETag is made
 * from the items' own ETags and the head and tail, not from hashing the text.
 */
export function joinedJson(head: string, items: readonly CachedJson[], tail: string): CachedJson {
  return new CachedJson({
    build: () => `${head}${items.map((b) => b.json).join(',')}${tail}`,
    etag: () => {
      const h = createHash('sha1').update(head).update(tail);
      for (const b of items) h.update(b.etag);
      return `W/"${h.digest('base64url')}"`;
    },
    bytes: head.length + tail.length + items.reduce((n, b) => n + b.json.length + 1, 0),
  });
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
