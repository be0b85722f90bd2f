import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { tarOf, type FixtureEntry } from '@/server/drivers/rootfs/tar-fixture';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';

/**
 * Root filesystem tarballs as images: a busybox-static tree made here, tarred plain and with
 * gzip, xz and zstd (known by their bytes, whatever the name), uploaded by the CLI or downloaded
 * by the server from a local HTTP server, then run in an nspawn container. Hostile archives are
 * refused before anything is unpacked, and leave no file and no image row behind.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let tmp: string;
let web: http.Server;
let base: string;

const cli = (args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 120_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const imagesDir = () => path.join(srv.dataDir, 'images');
/** Temp files of imports (uploads, downloads, half-unpacked trees): none may stay. */
const leftovers = () => fs.readdirSync(imagesDir()).filter((e) => e.startsWith('.'));
/** A body fetch takes (a Buffer's slice is typed wider). */
const body = (b: Buffer) => new Uint8Array(b);
const rows = async () => (await api.images.list()).items.filter((i) => i.kind === 'rootfs');

function busyboxTree(dir: string): void {
  for (const d of ['bin', 'etc', 'usr', 'dev', 'proc', 'sys', 'tmp', 'run']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'cat', 'echo', 'ls', 'grep', 'sleep', 'id']) fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
  fs.writeFileSync(path.join(dir, 'etc/motd'), 'hello from a tarball\n');
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
}

const tar = async (args: string[]) => {
  const r = await run(['tar', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-rootfs-'));
  const tree = path.join(tmp, 'tree');
  busyboxTree(tree);
  const c = ['--numeric-owner', '-C', tree];
  await tar(['-cf', path.join(tmp, 'bb.tar'), ...c, '.']);
  await tar(['-czf', path.join(tmp, 'bb.tar.gz'), ...c, '.']);
  await tar(['-cJf', path.join(tmp, 'bb.tar.xz'), ...c, '.']);
  // zstd under a name that says nothing: the bytes tell.
  await tar(['--zstd', '-cf', path.join(tmp, 'bb.download'), ...c, '.']);
  web = http.createServer((req, res) => {
    const f = path.join(tmp, path.basename(req.url ?? ''));
    if (!req.url?.startsWith('/files/') || !fs.existsSync(f)) return void res.writeHead(404).end('no such file');
    res.writeHead(200, { 'content-length': fs.statSync(f).size });
    fs.createReadStream(f).pipe(res);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}/files`;
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
}, 120_000);

afterAll(async () => {
  await tearDown(srv, api);
  web?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('root filesystem tarballs', () => {
  it('imports a .tar.gz with the CLI and runs a command from it in an nspawn container', async () => {
    const file = path.join(tmp, 'bb.tar.gz');
    const r = await cli(['images', 'import', file, '--name', 'bb-gz', '--sha256', sha(file)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Image bb-gz is ready: \d+ entries/);
    const [img] = await rows();
    expect(img).toMatchObject({ name: 'bb-gz', state: 'ready', recipe: { source: 'bb.tar.gz', sha256: sha(file), compression: 'gzip' } });
    const root = path.join(imagesDir(), 'bb-gz');
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    expect(fs.readlinkSync(path.join(root, 'rootfs/bin/sh'))).toBe('busybox');
    const ran = await cli(['run', '--rm', 'bb-gz', '--', '/bin/cat', '/etc/motd']);
    expect([ran.code, ran.stdout], ran.stderr).toEqual([0, 'hello from a tarball\n']);
    expect(leftovers()).toEqual([]);
  });

  it('knows plain tar, xz and zstd by their bytes, uploads and downloads alike', async () => {
    const a = await jobDone(api, await api.images.importRootfs(body(fs.readFileSync(path.join(tmp, 'bb.tar'))), { name: 'bb-plain', file: 'bb.tar' }));
    const b = await jobDone(api, await api.images.importRootfs(body(fs.readFileSync(path.join(tmp, 'bb.tar.xz'))), { name: 'bb-xz' }));
    const file = path.join(tmp, 'bb.download');
    // A download from this host is refused (SSRF) until an admin allows private addresses.
    const refused = await cli(['images', 'import', `${base}/bb.download`, '--name', 'bb-zst']);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/Download refused: .*127\.0\.0\.1.*loopback/)]);
    expect((await rows()).some((i) => i.name === 'bb-zst')).toBe(false);
    await api.settings.update({ downloadAllowPrivate: true });
    const c = await cli(['images', 'import', `${base}/bb.download`, '--name', 'bb-zst', '--sha256', sha(file)]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/Downloaded|downloaded/);
    expect([a.state, b.state]).toEqual(['succeeded', 'succeeded']);
    const byName = new Map((await rows()).map((i) => [i.name, i.recipe.compression]));
    expect(Object.fromEntries(byName)).toMatchObject({ 'bb-plain': 'none', 'bb-xz': 'xz', 'bb-zst': 'zstd' });
    const ran = await cli(['run', '--rm', 'bb-zst', '--', '/bin/sh', '-c', 'echo from-$(cat /etc/motd | grep -o tarball)']);
    expect([ran.code, ran.stdout], ran.stderr).toEqual([0, 'from-tarball\n']);
    expect(leftovers()).toEqual([]);
  });

  it('refuses hostile and broken archives with a 400 naming why, and leaves nothing behind', async () => {
    const tree: FixtureEntry[] = [
      { name: './', type: '5' },
      { name: './etc/', type: '5' },
      { name: './etc/motd', data: 'hi\n' },
    ];
    const gz = fs.readFileSync(path.join(tmp, 'bb.tar.gz'));
    const cases: [string, Buffer, RegExp][] = [
      ['dotdot', tarOf([...tree, { name: '../x', data: 'out' }]), /"\.\.\/x" goes up out of the image root/],
      ['symlink-out', tarOf([...tree, { name: 'evil', type: '2', link: '/etc' }, { name: 'evil/cron', data: 'x' }]), /through the symlink "evil"/],
      ['device', tarOf([...tree, { name: 'dev/sda', type: '4', dev: [8, 0] }]), /block device \(8:0\)/],
      ['setuid', tarOf([...tree, { name: 'bin/su', mode: 0o4755, data: 'x' }]), /setuid\/setgid \(mode 4755\)/],
      ['truncated', gz.subarray(0, Math.floor(gz.length / 2)), /gzip stream is damaged or truncated/],
      ['not-tar', Buffer.from('just some text, no archive\n'.repeat(50)), /not a tar archive/],
    ];
    for (const [name, bytes, why] of cases) {
      const err = await api.images.importRootfs(body(bytes), { name: `bad-${name}`, file: `${name}.tar` }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ApiError);
      expect([(err as ApiError).status, (err as ApiError).code, (err as ApiError).message], name).toEqual([
        400,
        'bad_request',
        expect.stringMatching(new RegExp(`^${name}\\.tar: .*${why.source}`)),
      ]);
    }
    const wrong = await cli(['images', 'import', path.join(tmp, 'bb.tar.xz'), '--name', 'bad-sum', '--sha256', '0'.repeat(64)]);
    expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringMatching(/bb\.tar\.xz: its SHA-256 is [0-9a-f]{64}, not 0{64} as asked/)]);
    fs.writeFileSync(path.join(tmp, 'dotdot.tar'), cases[0][1]);
    const cliRefusal = await cli(['images', 'import', path.join(tmp, 'dotdot.tar'), '--name', 'bad-cli']);
    expect([cliRefusal.code, cliRefusal.stderr]).toEqual([1, expect.stringContaining('dotdot.tar: entry "../x" goes up out of the image root')]);
    expect((await rows()).filter((i) => i.name.startsWith('bad-'))).toEqual([]);
    expect(leftovers()).toEqual([]);
    expect(fs.existsSync(path.join(srv.dataDir, 'x'))).toBe(false);
  });

  it('fails a download that is missing or has the wrong checksum, in its job, with nothing left', async () => {
    const missing = await cli(['images', 'import', `${base}/nope.tar.gz`, '--name', 'bad-404']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('the server answered 404')]);
    const sum = await cli(['images', 'import', `${base}/bb.tar.gz`, '--name', 'bad-dlsum', '--sha256', 'f'.repeat(64)]);
    expect([sum.code, sum.stderr]).toEqual([1, expect.stringMatching(/its SHA-256 is [0-9a-f]{64}, not f{64} as asked: nothing was unpacked/)]);
    expect((await rows()).filter((i) => i.name.startsWith('bad-'))).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('keeps setuid files only when asked, and refuses a name taken or reserved', async () => {
    const bytes = tarOf([
      { name: './', type: '5' },
      { name: 'usr/', type: '5' },
      { name: 'bin/', type: '5' },
      { name: 'bin/su', mode: 0o4755, data: '#!/bin/sh\n' },
      { name: 'dev/', type: '5' },
      { name: 'dev/null', type: '3', dev: [1, 3], mode: 0o666 },
    ]);
    const job = await jobDone(api, await api.images.importRootfs(body(bytes), { name: 'with-su', allowSetuid: true }));
    expect(job.state, job.error ?? '').toBe('succeeded');
    const root = path.join(imagesDir(), 'with-su/rootfs');
    expect(fs.statSync(path.join(root, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(fs.statSync(path.join(root, 'dev/null')).isCharacterDevice()).toBe(true);
    const taken = await api.images.importRootfs(body(bytes), { name: 'with-su', allowSetuid: true }).catch((e: unknown) => e);
    expect((taken as ApiError).status).toBe(409);
    const reserved = await api.images.importRootfs(body(bytes), { name: 'debian-12' }).catch((e: unknown) => e);
    expect((reserved as ApiError).status).toBe(400);
    const used = await cli(['images', 'import', path.join(tmp, 'bb.tar'), '--name', 'with-su']);
    expect([used.code, used.stderr]).toEqual([1, expect.stringContaining('An image named with-su exists already')]);
    expect(leftovers()).toEqual([]);
  });
});
