import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { removeTree } from '@/server/drivers/shared/tree';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';
import { writeHtpasswd } from './oci-registry';
import { AUTH, ociWorld, type OciWorld } from './oci-world';

/**
 * OCI images end to end against Debian's docker-registry started here (plain HTTP, and TLS with
 * a CA made here + htpasswd), test images built here from busybox-static: pull, run with the
 * image's entrypoint/env/workdir/user, stdin, exit codes, reuse by digest, shared layers, bad input.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let w: OciWorld;
let tmp: string;

const cli = (args: string[], input?: string | Buffer) =>
  run([process.execPath, 'dist/cli.js', ...args], { input: input ?? '', timeoutMs: 60_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const storage = () => path.join(srv.dataDir, 'oci', 'storage');
const storedLayers = () => (JSON.parse(fs.readFileSync(path.join(storage(), 'overlay-layers', 'layers.json'), 'utf8')) as unknown[]).length;
const ociImages = async () => (await api.images.list()).items.filter((i) => i.kind === 'oci');
const apiError = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-oci-'));
  [w, srv] = await Promise.all([ociWorld(tmp), startServer()]);
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  // The plain-HTTP registry is marked insecure; the TLS one is not (verification stays on).
  await api.registries.put(w.http.host, { insecure: true });
}, 120_000);

afterAll(async () => {
  await tearDown(srv, api);
  // c/storage bind-mounts its overlay dir on itself: removeTree unmounts first.
  if (srv) await removeTree(srv.dataDir);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('pull', () => {
  it('pulls over plain HTTP into the store: a job with progress per layer, the config kept and shown', async () => {
    const r = await cli(['pull', `docker://${w.http.host}/test/busybox:base`]);
    expect(r.stderr).toMatch(/Layer 1\/1 [0-9a-f]{12}: done/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`image oci-${w.digests.base.slice(7, 19)}`);
    const [img] = await ociImages();
    expect(img).toMatchObject({ name: `oci-${w.digests.base.slice(7, 19)}`, kind: 'oci', state: 'ready' });
    expect(img.sizeBytes).toBeGreaterThan(1_000_000);
    expect(img.recipe).toMatchObject({
      source: `${w.http.host}/test/busybox:base`,
      digest: w.digests.base,
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-02T03:04:05Z',
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Env: ['PATH=/bin', 'GREETING=hangar'],
        WorkingDir: '/app',
        User: '1000:1000',
        ExposedPorts: { '8080/tcp': {} },
        Labels: { 'org.example.name': 'busybox-test' },
      },
    });
    expect(storedLayers()).toBe(1);
    expect(fs.readdirSync(path.join(srv.dataDir, 'tmp')).filter((e) => e.startsWith('pull-'))).toEqual([]);
  });

  it('reuses the same digest (again, or by @sha256:), and stores a layer two images share once', async () => {
    const again = await cli(['pull', `${w.http.host}/test/busybox:base`]);
    expect(again.stdout).toContain('already here');
    const byDigest = await cli(['pull', '--json', `${w.http.host}/test/busybox@${w.digests.base}`]);
    expect(JSON.parse(byDigest.stdout)).toMatchObject({ reused: true, digest: w.digests.base, ref: `${w.http.host}/test/busybox@${w.digests.base}` });
    expect(await ociImages()).toHaveLength(1);
    expect((await ociImages())[0].recipe.refs).toHaveLength(2);
    const derived = await cli(['pull', `${w.http.host}/test/busybox:derived`]);
    expect(derived.code, derived.stderr).toBe(0);
    // busybox's layer is shared: the derived image adds one layer, not two.
    expect(storedLayers()).toBe(2);
    expect(await ociImages()).toHaveLength(2);
  });

  it('pulls over TLS with its own CA and basic auth; credentials checked, kept 0600 and never shown', async () => {
    const ref = `${w.tls.host}/test/secure:1`;
    // No CA: verification is on by default.
    expect((await apiError(api.images.pull({ ref }))).message).toMatch(`TLS certificate of ${w.tls.host} not trusted`);
    await api.registries.put(w.tls.host, { insecure: false, ca: w.tls.caPem! });
    const anon = await apiError(api.images.pull({ ref }));
    expect(anon.message).toBe(`${w.tls.host} needs a login: hangar registry login ${w.tls.host}`);
    const wrong = await cli(['registry', 'login', w.tls.host, '-u', AUTH.user, '--password-stdin'], 'not-the-password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`login failed for ${w.tls.host}`);
    const ok = await cli(['registry', 'login', w.tls.host, '-u', AUTH.user, '--password-stdin'], `${AUTH.password}\n`);
    expect(ok.stdout, ok.stderr).toContain(`logged in as ${AUTH.user}`);
    const listed = await fetch(`${srv.url}/api/registries`, { headers: { authorization: `Bearer ${token}` } }).then((x) => x.text());
    expect(listed).not.toContain(AUTH.password);
    expect(JSON.parse(listed).items).toContainEqual({ host: w.tls.host, insecure: false, username: AUTH.user, hasPassword: true, hasCa: true });
    // Kept in the database (every node's); this node's files for skopeo are written from it, readable by the server only.
    for (const f of ['auth.json', `certs/${w.tls.host.replace(':', '_')}/ca.crt`])
      expect(fs.statSync(path.join(srv.dataDir, 'oci', f)).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(srv.dataDir, 'oci', 'auth.json'), 'utf8')).toContain(w.tls.host);
    const pulled = await cli(['run', '--rm', ref]);
    expect(pulled.stdout, pulled.stderr).toBe('tls only\n');
    // The password changes at the registry: the kept one is refused.
    writeHtpasswd(w.tls.htpasswd!, AUTH.user, 'changed-meanwhile');
    try {
      const refused = await apiError(api.images.pull({ ref }));
      expect([refused.status, refused.message]).toEqual([400, `login failed for ${w.tls.host}: the registry refused the credentials`]);
    } finally {
      writeHtpasswd(w.tls.htpasswd!, AUTH.user, AUTH.password);
    }
  });
});

describe('run', () => {
  it("runs the image's entrypoint and cmd with its env, workdir and numeric user", async () => {
    const r = await cli(['run', '--rm', `${w.http.host}/test/busybox:base`]);
    expect([r.stdout, r.code]).toEqual(['hi from hangar in /app as 1000:1000\n', 0]);
  });

  it('resolves a named user from the image, makes a missing workdir, honours whiteouts, passes the exit code', async () => {
    const r = await cli(['run', '--rm', `${w.http.host}/test/busybox:derived`]);
    expect(r.stdout).toBe('derived as 1000 groups 1000 50 in /work home /app\n');
    expect(r.stderr).toContain('/bin/wc: No such file or directory');
    expect(r.code).toBe(3);
    const code = await cli(['run', '--rm', `${w.http.host}/test/busybox:base`, '--', 'exit 7']);
    expect(code.code).toBe(7);
  });

  it('streams stdin to the command, EOF passed on, binary-safe', async () => {
    const ref = `${w.http.host}/test/busybox:base`;
    // Not pulled here (any more): the one-request run hears 404 on its ref, and the whole path pulls it first.
    const base = (await api.images.list()).items.find((i) => i.name === `oci-${w.digests.base.slice(7, 19)}`);
    await api.images.remove(base!.id);
    const hello = await cli(['run', '--rm', ref, '--', 'cat'], 'hello\n');
    expect([hello.stdout, hello.code]).toEqual(['hello\n', 0]);
    expect((await api.images.list()).items.map((i) => i.name)).toContain(base!.name);
    const bytes = fs.readFileSync('/bin/busybox');
    const sum = await cli(['run', '--rm', ref, '--', 'sha256sum'], bytes);
    const want = (await run(['sha256sum', '/bin/busybox'])).stdout.split(' ')[0];
    expect(sum.stdout.split(' ')[0]).toBe(want);
    expect((await api.machines.list()).items).toEqual([]);
  });

  it('creates a long-running container from a ref (pulled on first use) and refuses drivers that do not run OCI images', async () => {
    const ref = `${w.http.host}/test/server:1`;
    const made = await cli(['create', 'oci-server', '--driver', 'nspawn', '--image', ref]);
    expect(made.code, made.stderr).toBe(0);
    const m = await api.machines.get('oci-server');
    expect(m).toMatchObject({ state: 'running', image: `oci-${w.digests.server.slice(7, 19)}`, command: ['/bin/sh', '-c', 'echo server up; exec sleep 600'] });
    await expect.poll(async () => (await api.machines.logs('oci-server', { tail: 4096 })).text, { timeout: 15_000 }).toContain('server up');
    await jobDone(api, await api.machines.destroy('oci-server'));
    const qemu = await apiError(api.machines.runOnce({ image: m.image, driver: 'qemu', argv: [] }, () => undefined));
    expect([qemu.status, qemu.message]).toEqual([400, expect.stringContaining('do not run oci images')]);
  });

  it('runs a bare NAME from the default registry: no image of that name here, so the CLI pulls NAME:latest first', async () => {
    await api.settings.update({ defaultRegistry: w.http.host });
    try {
      const r = await cli(['run', '--rm', 'plain', '--', 'echo', 'bare name']);
      expect([r.stdout, r.code], r.stderr).toEqual(['bare name\n', 0]);
    } finally {
      await api.settings.update({ defaultRegistry: 'docker.io' });
    }
  });
});

describe('bad input', () => {
  it('refuses an unknown tag, a malformed ref, another architecture, each with nothing left behind', async () => {
    const before = { layers: storedLayers(), images: (await ociImages()).length };
    const unknown = await apiError(api.images.pull({ ref: `${w.http.host}/test/busybox:nope` }));
    expect([unknown.status, unknown.message]).toEqual([404, expect.stringMatching(`^image not found: ${w.http.host}/test/busybox:nope`)]);
    const bad = await cli(['pull', `${w.http.host}/Test/BusyBox:base`]);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('not an image reference')]);
    const arm = await apiError(api.images.pull({ ref: `${w.http.host}/test/arm:latest` }));
    expect([arm.status, arm.message]).toEqual([400, `${w.http.host}/test/arm:latest is linux/arm64; this host runs linux/amd64`]);
    const cliArm = await cli(['run', '--rm', `${w.http.host}/test/arm:latest`]);
    expect([cliArm.code, cliArm.stderr]).toEqual([1, expect.stringContaining('is linux/arm64')]);
    expect({ layers: storedLayers(), images: (await ociImages()).length }).toEqual(before);
  });

  it('refuses a corrupt layer (digest mismatch): the job fails, no image, no layer, no temp files', async () => {
    const before = storedLayers();
    const r = await cli(['pull', `${w.http.host}/test/corrupt:latest`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/layer sha256:[0-9a-f]{64} of .*test\/corrupt:latest is corrupt \(digest mismatch\); nothing was imported/);
    expect(storedLayers()).toBe(before);
    expect((await ociImages()).some((i) => (i.recipe.source as string).includes('corrupt'))).toBe(false);
    expect(fs.readdirSync(path.join(srv.dataDir, 'tmp')).filter((e) => e.startsWith('pull-'))).toEqual([]);
  });
});
