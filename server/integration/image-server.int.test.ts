import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { rawPublicKey } from '@/server/core/image-signing';
import { adminToken, client, jobDone, serverWithBusybox, startServer, tearDown, until, type RunningServer } from './harness';

/**
 * The image server: one Hangar publishes its busybox image to a directory target (a signed
 * manifest, the image as a gzip tar); a second Hangar with a fresh data dir adds the same
 * target, refuses the image until it trusts the first one's key, then pulls it, checked, and
 * boots a VM from it. The same pull over HTTP (the target served by a web server), and a
 * tampered artifact or manifest refused with nothing left behind.
 */
let one: { srv: RunningServer; api: ApiClient };
let two: { srv: RunningServer; api: ApiClient; token: string };
let target: string;
let web: http.Server;
let webBase = '';
/** Files the web server serves instead of the target's own (tampering). */
const swapped = new Map<string, Buffer>();

const cli = (args: string[]) =>
  run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 300_000, env: { HANGAR_URL: two.srv.url, HANGAR_TOKEN: two.token } });
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const imageDir = (srv: RunningServer, name: string) => path.join(srv.dataDir, 'images', name);

beforeAll(async () => {
  target = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-imgsrv-'));
  web = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '').replace(/^\/+/, ''));
    const f = path.join(target, rel);
    if (swapped.has(rel)) return void res.writeHead(200, { 'content-length': swapped.get(rel)!.length }).end(swapped.get(rel));
    if (rel.split('/').includes('..') || !fs.existsSync(f) || !fs.statSync(f).isFile()) return void res.writeHead(404).end('none');
    res.writeHead(200, { 'content-length': fs.statSync(f).size });
    fs.createReadStream(f).pipe(res);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webBase = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const a = await serverWithBusybox();
  one = { srv: a.srv, api: a.api };
  const srv2 = await startServer();
  const token = await adminToken(srv2.url);
  two = { srv: srv2, api: client(srv2.url, token), token };
  for (const h of [one, two]) await h.api.backups.addTarget({ kind: 'dir', name: 'shelf', path: target });
}, 600_000);

afterAll(async () => {
  await tearDown(two?.srv, two?.api);
  await tearDown(one?.srv, one?.api);
  web?.close();
  if (target) fs.rmSync(target, { recursive: true, force: true });
}, 120_000);

describe('image server', () => {
  it('publishes a signed image to a target; another Hangar pulls it once it trusts the key, and boots it', async () => {
    const published = await jobDone(one.api, await one.api.images.publish('busybox', { target: 'shelf', version: 'v1' }), 300_000);
    expect(published.error).toBeNull();
    expect(published.result).toMatchObject({ image: 'busybox', version: 'v1', target: 'shelf', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const files = fs.readdirSync(path.join(target, 'images', 'busybox', 'v1')).sort();
    expect(files).toEqual(['image.tar.gz', 'manifest.json', 'manifest.sig']);
    expect(fs.readFileSync(path.join(target, 'images', 'busybox', 'latest'), 'utf8').trim()).toBe('v1');
    // The same version again is refused before anything is sent.
    await expect(one.api.images.publish('busybox', { target: 'shelf', version: 'v1' })).rejects.toMatchObject({ status: 409 });
    expect((await two.api.images.published('shelf')).items).toMatchObject([{ name: 'busybox', version: 'v1', kind: 'busybox' }]);

    // Not trusted yet: the job fails naming the key, and no image is left.
    const untrusted = await jobDone(two.api, await two.api.images.pullPublished({ source: 'shelf', image: 'busybox' }), 120_000);
    expect(untrusted.error).toMatch(/signed by SHA256:\S+, which this Hangar does not trust/);
    expect((await two.api.images.list()).items).toEqual([]);

    const key = (await one.api.images.signingKey()).publicKey;
    const trusted = await cli(['images', 'trust', key]);
    expect(trusted.code, trusted.stderr).toBe(0);
    const pulled = await cli(['images', 'pull', 'shelf', 'busybox']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/^Image busybox is ready: busybox v1, .*signed by SHA256:/m);
    for (const f of ['kernel', 'initrd.img', 'boot.json'])
      expect(sha(path.join(imageDir(two.srv, 'busybox'), f))).toBe(sha(path.join(imageDir(one.srv, 'busybox'), f)));
    expect((await two.api.images.list()).items).toMatchObject([{ name: 'busybox', kind: 'busybox', state: 'ready', recipe: { published: { version: 'v1' } } }]);

    expect((await jobDone(two.api, await two.api.machines.create({ name: 'from-shelf', image: 'busybox', memoryMib: 128 }), 180_000)).error).toBeNull();
    await until(async () => (await two.api.machines.get('from-shelf')).state === 'running' || null, 'the VM from the pulled image runs', 120_000);
    const r = await two.api.machines.exec('from-shelf', ['cat', '/proc/version']);
    expect(r.stdout).toMatch(/Linux version/);
  }, 900_000);

  it('pulls over HTTP from where a target is served, and refuses a tampered artifact or manifest, leaving nothing', async () => {
    // A download from this host is refused (SSRF) until an admin allows it.
    await expect(two.api.images.pullPublished({ source: webBase, image: 'busybox', as: 'bb-web' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/Source refused: .*loopback/),
    });
    await two.api.settings.update({ downloadAllowPrivate: true });
    const ok = await jobDone(two.api, await two.api.images.pullPublished({ source: webBase, image: 'busybox', version: 'v1', as: 'bb-web' }), 300_000);
    expect(ok.error).toBeNull();
    expect(sha(path.join(imageDir(two.srv, 'bb-web'), 'kernel'))).toBe(sha(path.join(imageDir(one.srv, 'busybox'), 'kernel')));

    const art = 'images/busybox/v1/image.tar.gz';
    const real = fs.readFileSync(path.join(target, art));
    const flipped = Buffer.from(real);
    flipped[flipped.length >> 1] ^= 0xff;
    swapped.set(art, flipped);
    const bad = await jobDone(two.api, await two.api.images.pullPublished({ source: webBase, image: 'busybox', as: 'bb-bad' }), 300_000);
    expect(bad.error).toMatch(/image\.tar\.gz: .* with sha256 [0-9a-f]{64}, the manifest says .*nothing was pulled/);
    swapped.set(art, Buffer.concat([real, Buffer.from('more')]));
    const longer = await jobDone(two.api, await two.api.images.pullPublished({ source: webBase, image: 'busybox', as: 'bb-bad' }), 300_000);
    expect(longer.error).toMatch(/over|longer than its manifest/);
    swapped.clear();

    // A manifest changed after signing (a bigger artifact claimed) fails the signature check.
    const man = 'images/busybox/v1/manifest.json';
    const m = JSON.parse(fs.readFileSync(path.join(target, man), 'utf8')) as { artifact: { sizeBytes: number } };
    m.artifact.sizeBytes += 4;
    swapped.set(man, Buffer.from(JSON.stringify(m, null, 2) + '\n'));
    const forged = await jobDone(two.api, await two.api.images.pullPublished({ source: webBase, image: 'busybox', as: 'bb-bad' }), 120_000);
    expect(forged.error).toMatch(/the signature does not match/);
    // Re-signed by a key of the forger's own: not trusted.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const body = Buffer.from(JSON.stringify({ ...m, publisher: rawPublicKey(publicKey) }, null, 2) + '\n');
    swapped.set(man, body);
    swapped.set('images/busybox/v1/manifest.sig', Buffer.from(sign(null, body, privateKey).toString('base64')));
    const stranger = await jobDone(two.api, await two.api.images.pullPublished({ source: webBase, image: 'busybox', as: 'bb-bad' }), 120_000);
    expect(stranger.error).toMatch(/does not trust/);
    swapped.clear();

    expect((await two.api.images.list()).items.map((i) => i.name).sort()).toEqual(['bb-web', 'busybox']);
    expect(fs.readdirSync(path.join(two.srv.dataDir, 'images')).filter((e) => e.startsWith('.'))).toEqual([]);
    // Bad input: a name taken, a version that is no version, a target that does not exist.
    await expect(two.api.images.pullPublished({ source: 'shelf', image: 'busybox' })).rejects.toMatchObject({ status: 409 });
    await expect(two.api.images.pullPublished({ source: 'shelf', image: 'busybox', version: '../x', as: 'y' })).rejects.toMatchObject({ status: 400 });
    await expect(two.api.images.pullPublished({ source: 'nowhere', image: 'busybox', as: 'y' })).rejects.toMatchObject({ status: 404 });
    await expect(one.api.images.publish('no-such', { target: 'shelf' })).rejects.toMatchObject({ status: 404 });
  }, 900_000);
});
