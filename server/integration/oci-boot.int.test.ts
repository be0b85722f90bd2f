import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { adminToken, client, startServer, tearDown, TEST_CACHE, type RunningServer } from './harness';

/**
 * `hangar create NAME --image REF --boot`: an OCI image that holds systemd booted as an OS container
 * under nspawn. The image is made here, with no download, from the debian-12 root filesystem the
 * test tier keeps built (HANGAR_TEST_IMAGE_CACHE): one uncompressed layer in an OCI layout, taken in
 * as `oci:DIR`. Without a built debian-12 in the cache (a run that has not built it yet) it is skipped.
 */
const rootfs = (() => {
  const dir = path.join(TEST_CACHE, 'built-images');
  const built = fs.existsSync(dir) ? fs.readdirSync(dir).map((d) => path.join(dir, d)) : [];
  const ok = built.filter((d) => {
    const facts = fs.existsSync(path.join(d, 'built.json')) ? fs.readFileSync(path.join(d, 'built.json'), 'utf8') : '';
    return facts.includes('"bookworm"') && fs.existsSync(path.join(d, 'files/rootfs/usr/lib/systemd/systemd'));
  });
  ok.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return ok.length ? path.join(ok[0], 'files/rootfs') : null;
})();

let srv: RunningServer;
let api: ApiClient;
let token: string;
let tmp: string;

const cli = (args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 600_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const sh = (argv: string[]) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** An OCI layout with the root filesystem as one uncompressed layer (tag `system`), its blobs named by sha256. */
function systemLayout(root: string, layout: string): void {
  const blobs = path.join(layout, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const tar = path.join(layout, 'layer.tar');
  // Device nodes stay out (nspawn makes /dev).
  sh(['tar', '--numeric-owner', '--xattrs', '--exclude=./dev/*', '-C', root, '-cf', tar, '.']);
  const digest = sh(['sha256sum', tar]).split(' ')[0];
  const size = fs.statSync(tar).size;
  fs.renameSync(tar, path.join(blobs, digest));
  const put = (body: string) => {
    const d = sh(['sh', '-c', 'printf %s "$1" | sha256sum', 'x', body]).split(' ')[0];
    fs.writeFileSync(path.join(blobs, d), body);
    return { digest: `sha256:${d}`, size: Buffer.byteLength(body) };
  };
  const config = put(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/bash'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${digest}`] },
    }),
  );
  const manifest = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${digest}`, size }],
    }),
  );
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'system' } }],
    }),
  );
}

beforeAll(async () => {
  if (!rootfs) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-oci-boot-'));
  systemLayout(rootfs, path.join(tmp, 'layout'));
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
}, 300_000);

afterAll(async () => {
  if (!rootfs) return;
  await tearDown(srv, api);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!rootfs)('booting an OCI system image', () => {
  it('boots an image with systemd as an OS container (--boot): systemd is its init, exec and the hostname work', async () => {
    const r = await cli(['create', 'oci-os', '--driver', 'nspawn', '--image', `oci:${path.join(tmp, 'layout')}`, '--boot']);
    expect(r.code, r.stderr).toBe(0);
    const m = await api.machines.get('oci-os');
    expect(m).toMatchObject({ state: 'running', driver: 'nspawn', command: null, image: expect.stringMatching(/^oci-[0-9a-f]{12}$/) });
    const init = await api.machines.exec('oci-os', ['cat', '/proc/1/comm', '/etc/hostname']);
    expect(init.stdout).toBe('systemd\noci-os\n');
    // systemd got far enough to start units (getty is what made the machine ready).
    const state = await api.machines.exec('oci-os', ['systemctl', 'is-active', 'console-getty.service']);
    expect(state.stdout.trim()).toBe('active');
  }, 180_000);

  it('refuses --boot with a command, and on a driver that cannot boot OCI images', async () => {
    const image = (await api.machines.get('oci-os')).image;
    const both = await api.machines.create({ name: 'oci-x', image, driver: 'nspawn', boot: true, command: ['true'] }).catch((e: Error) => e);
    expect(both).toMatchObject({ status: 400, message: expect.stringContaining('not both') });
    const vm = await api.machines.create({ name: 'oci-y', image, driver: 'qemu', boot: true }).catch((e: Error) => e);
    expect(vm).toMatchObject({ status: 400, message: expect.stringContaining('an OCI image boots as a container') });
  });
});
