import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CachedJson, etagMatches, joinedJson, pickEncoding } from './cached-json';

describe('cached JSON bodies', () => {
  it('chooses brotli, then gzip, from Accept-Encoding, and nothing refused or unknown', () => {
    expect(pickEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(pickEncoding('gzip, deflate')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(pickEncoding('identity')).toBeNull();
    expect(pickEncoding(undefined)).toBeNull();
  });

  it('matches If-None-Match weakly, in lists and with *', () => {
    const b = new CachedJson('{"a":1}');
    expect(b.etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
    expect(etagMatches(b.etag, b.etag)).toBe(true);
    expect(etagMatches(`"x", ${b.etag.slice(2)}`, b.etag)).toBe(true);
    expect(etagMatches('*', b.etag)).toBe(true);
    expect(etagMatches(new CachedJson('{"a":2}').etag, b.etag)).toBe(false);
    expect(etagMatches(null, b.etag)).toBe(false);
  });

  it('compresses once per encoding and keeps it', async () => {
    const json = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ name: `m-${i}`, state: 'stopped' })) });
    const b = new CachedJson(json);
    expect(b.compressible).toBe(true);
    expect(new CachedJson('{}').compressible).toBe(false);
    const gz = b.encoded('gzip');
    expect(b.encoded('gzip')).toBe(gz);
    expect(gunzipSync(await gz).toString()).toBe(json);
    expect(brotliDecompressSync(await b.encoded('br')).toString()).toBe(json);
    expect((await gz).length).toBeLessThan(json.length / 4);
  });

  it('a page joined from kept bodies: the same text as made whole, compressed once, its ETag changing with any item or its tail', async () => {
    const items = Array.from({ length: 30 }, (_, i) => new CachedJson(JSON.stringify({ name: `m-${i}`, state: 'stopped' }), true));
    const page = joinedJson('{"items":[', items, '],"next":"x"}');
    const whole = JSON.stringify({ items: items.map((b) => JSON.parse(b.json)), next: 'x' });
    expect(page.json).toBe(whole);
    expect(page.compressible).toBe(whole.length >= 1024);
    expect(gunzipSync(await page.encoded('gzip')).toString()).toBe(whole);
    expect(page.encoded('gzip')).toBe(page.encoded('gzip'));
    expect(joinedJson('{"items":[', items, '],"next":"x"}').etag).toBe(page.etag);
    expect(joinedJson('{"items":[', items, '],"next":null}').etag).not.toBe(page.etag);
    const changed = [...items];
    changed[7] = new CachedJson(JSON.stringify({ name: 'm-7', state: 'running' }), true);
    expect(joinedJson('{"items":[', changed, '],"next":"x"}').etag).not.toBe(page.etag);
  });
});
