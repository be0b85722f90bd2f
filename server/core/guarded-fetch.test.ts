import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedGet, MAX_REDIRECTS, TargetRefused } from './guarded-fetch';

let web: http.Server;
let base = '';

beforeAll(async () => {
  web = http.createServer((req, res) => {
    const hops = /^\/hop\/(\d+)$/.exec(req.url ?? '');
    if (hops) return void res.writeHead(302, { location: Number(hops[1]) > 0 ? `/hop/${Number(hops[1]) - 1}` : '/file' }).end();
    if (req.url === '/file') return void res.writeHead(200, { 'content-length': 5 }).end('hello');
    if (req.url === '/away') return void res.writeHead(301, { location: 'ftp://example.org/x' }).end();
    res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => web.close(() => r())));

async function text(url: string): Promise<string> {
  const res = await guardedGet(url, { allowPrivate: true });
  let out = '';
  for await (const c of res.body) out += String(c);
  return `${res.status} ${res.length} ${out}`;
}

describe('guardedGet', () => {
  it('refuses loopback and link-local hosts unless private targets are allowed', async () => {
    await expect(guardedGet(`${base}/file`, { allowPrivate: false })).rejects.toBeInstanceOf(TargetRefused);
    await expect(guardedGet('http://169.254.169.254/latest/meta-data', { allowPrivate: false })).rejects.toThrow(/link-local/);
    await expect(guardedGet('http://[::ffff:127.0.0.1]/x', { allowPrivate: false })).rejects.toThrow(/loopback/);
    expect(await text(`${base}/file`)).toBe('200 5 hello');
  });

  it('follows redirects a bounded number of times and re-checks each hop', async () => {
    expect(await text(`${base}/hop/${MAX_REDIRECTS - 1}`)).toBe('200 5 hello');
    await expect(guardedGet(`${base}/hop/${MAX_REDIRECTS}`, { allowPrivate: true })).rejects.toThrow(/more than 5 redirects/);
    await expect(guardedGet(`${base}/away`, { allowPrivate: true })).rejects.toThrow(/ftp: URLs are not allowed/);
    await expect(guardedGet(`${base}/missing`, { allowPrivate: true })).rejects.toThrow(/answered 404/);
  });

  it('refuses schemes other than http and https', async () => {
    await expect(guardedGet('file:///etc/passwd', { allowPrivate: true })).rejects.toThrow(/file: URLs are not allowed/);
  });
});
