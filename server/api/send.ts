import type { Context } from 'hono';
import { etagMatches, pickEncoding, type CachedJson } from '@/server/core/cached-json';
import type { AppEnv } from './route-spec';

/**
 * Send a JSON answer. GETs carry a weak ETag and answer 304 when If-None-Match names it; the
 * browser may keep them (`private, no-cache`: it must ask each time) unless `keep` is false
 * (accounts, tokens, sessions, the audit log: nothing of those stays in a browser's cache).
 * Other answers are never kept. Bodies of 1 KB and more go compressed when the client accepts brotli or gzip; the
 * compressed bytes are the body's own (kept with it when a cache keeps the body).
 */
export async function sendJson(c: Context<AppEnv>, body: CachedJson, status: number, keep = true): Promise<Response> {
  const get = c.req.method === 'GET';
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': get && keep ? 'private, no-cache' : 'no-store' };
  if (get) {
    headers.ETag = body.etag;
    if (etagMatches(c.req.header('if-none-match'), body.etag)) return c.body(null, 304, headers);
  }
  if (body.compressible) {
    headers.Vary = 'Accept-Encoding';
    const enc = pickEncoding(c.req.header('accept-encoding'));
    // Compression failing (it should not) costs only the saving: the plain body goes instead.
    const packed = enc ? await body.encoded(enc).catch(() => null) : null;
    // zlib's Buffers are views of plain ArrayBuffers, never shared ones.
    if (packed) return c.body(packed as Uint8Array<ArrayBuffer>, status as 200, { ...headers, 'Content-Encoding': enc! });
  }
  return c.body(body.json, status as 200, headers);
}
