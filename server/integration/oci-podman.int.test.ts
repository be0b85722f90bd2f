import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { removeTree } from '@/server/drivers/shared/tree';
import { adminToken, client, execThenLeave, jobDone, startServer, tearDown, type RunningServer } from './harness';
import { push, writeHtpasswd } from './oci-registry';
import { AUTH, ociWorld, type OciWorld } from './oci-world';

/**
 * podman runs OCI images with its own pull from the same registries (TLS + basic auth, plain HTTP
 * marked insecure), pinned to the digest Hangar resolved, credentials in a per-call auth file;
 * and a pull whose declared layers do not fit is refused before anything is fetched.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let w: OciWorld;
let tmp: string;

const cli = (args: string[], input?: string) =>
  run([process.execPath, 'dist/cli.js', ...args], { input: input ?? '', timeoutMs: 120_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const podman = (args: string[]) => run(['podman', '--runtime', 'runc', '--cgroup-manager=cgroupfs', ...args], { timeoutMs: 60_000 });
const leftovers = () => fs.readdirSync(path.join(srv.dataDir, 'tmp')).filter((e) => /^(auth|pull|login)-/.test(e));
const storedLayers = () => (JSON.parse(fs.readFileSync(path.join(srv.dataDir, 'oci', 'storage', 'overlay-layers', 'layers.json'), 'utf8')) as unknown[]).length;
const apiError = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
};
/** The podman images pinned by this test's digests (removed before and after: each run pulls them itself). */
const pinned = () => [
  ...['base', 'derived'].map((t) => `${w.tls.host}/test/busybox@${w.digests[t]}`),
  `${w.tls.host}/test/secure@${w.digests.secure}`,
  `${w.http.host}/test/server@${w.digests.server}`,
];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-ocipod-'));
  [w, srv] = await Promise.all([ociWorld(tmp), startServer()]);
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  for (const t of ['base', 'derived']) push(path.join(tmp, 'layout'), t, w.tls, `test/busybox:${t}`, AUTH);
  await api.registries.put(w.http.host, { insecure: true });
  await api.registries.put(w.tls.host, { insecure: false, ca: w.tls.caPem!, username: AUTH.user, password: AUTH.password });
}, 180_000);

afterAll(async () => {
  await tearDown(srv, api);
  if (w) for (const ref of pinned()) await podman(['rmi', '-f', ref]);
  if (srv) await removeTree(srv.dataDir);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('podman pulls OCI images itself', () => {
  it('runs an image from the TLS + auth registry by its digest: entrypoint, env, workdir, user, exit code; no auth file left', async () => {
    const base = `${w.tls.host}/test/busybox:base`;
    const r = await cli(['run', '--rm', '--driver', 'podman', base]);
    expect([r.stdout, r.code], r.stderr).toEqual(['hi from hangar in /app as 1000:1000\n', 0]);
    // podman holds the very digest Hangar resolved.
    expect((await podman(['image', 'exists', `${w.tls.host}/test/busybox@${w.digests.base}`])).code).toBe(0);
    const derived = await cli(['run', '--rm', '--driver', 'podman', `${w.tls.host}/test/busybox:derived`]);
    expect(derived.stdout).toMatch(/^derived as 1000 groups 1000( 50)? in \/work home \/app\n$/);
    expect(derived.code).toBe(3);
    const seven = await cli(['run', '--rm', '--driver', 'podman', base, '--', 'exit 7']);
    expect(seven.code).toBe(7);
    // On a terminal (-it): the command sees a tty, and its exit code comes through.
    const tty = await cli(['run', '-it', '--rm', '--driver', 'podman', base, '--', 'test -t 0 && echo on-a-tty; exit 3']);
    expect([tty.code, tty.stdout], tty.stderr).toEqual([3, expect.stringContaining('on-a-tty')]);
    expect((await api.machines.list()).items).toEqual([]);
    expect(leftovers()).toEqual([]);
    expect(srv.output()).not.toContain(AUTH.password);
  }, 180_000);

  it('creates a long-running podman container from a plain-HTTP registry marked insecure', async () => {
    const made = await cli(['create', 'pod-server', '--driver', 'podman', '--image', `${w.http.host}/test/server:1`]);
    expect(made.code, made.stderr).toBe(0);
    const m = await api.machines.get('pod-server');
    expect(m).toMatchObject({ driver: 'podman', state: 'running', command: ['/bin/sh', '-c', 'echo server up; exec sleep 600'] });
    await expect.poll(async () => (await api.machines.logs('pod-server', { tail: 4096 })).text, { timeout: 30_000 }).toContain('server up');
    // A command stopped at its time limit (streamed and buffered) or when its caller goes away is stopped in the container
    // too: killing podman's client alone leaves it running there (podman #19486), and the file after its sleep would come.
    const late = (f: string) => ['sh', '-c', `echo started; sleep 4; echo late > /tmp/${f}`];
    expect(await cli(['exec', 'pod-server', '--timeout', '2', '--', ...late('a')])).toMatchObject({ code: 124, stdout: 'started\n' });
    await expect(api.machines.exec('pod-server', late('b'), 2)).rejects.toMatchObject({ message: expect.stringContaining('within 2 s') });
    await execThenLeave(srv.url, token, 'pod-server', late('c'));
    // One that runs below a shell with its environment cleared (no marker): found below the shell that holds it.
    const cleared = ['sh', '-c', 'echo started; env -i sh -c "sleep 4; echo late > /tmp/d"; true'];
    expect(await cli(['exec', 'pod-server', '--timeout', '2', '--', ...cleared])).toMatchObject({ code: 124, stdout: 'started\n' });
    await new Promise((r) => setTimeout(r, 5000));
    const left = await api.machines.exec('pod-server', ['sh', '-c', 'cat /tmp/a /tmp/b /tmp/c /tmp/d 2>/dev/null; echo none']);
    expect(left.stdout).toBe('none\n');
    // The marker is Hangar's: the command sees it, other commands are left alone.
    expect((await api.machines.exec('pod-server', ['sh', '-c', 'echo $HANGAR_EXEC_ID'])).stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    // A fork of its commit runs the image's process as the machine did (the commit keeps the image's Entrypoint).
    const snap = ((await jobDone(api, await api.snapshots.checkpoint('pod-server', 'pod-oci'))).result as { snapshot: string }).snapshot;
    await jobDone(api, await api.snapshots.fork(snap, { count: 1, names: ['pod-server-f'] }));
    await expect.poll(async () => (await api.machines.logs('pod-server-f', { tail: 4096 })).text, { timeout: 30_000 }).toContain('server up');
    expect((await api.machines.get('pod-server-f')).command).toEqual(m.command);
    await jobDone(api, await api.machines.destroy('pod-server-f'));
    await jobDone(api, await api.machines.destroy('pod-server'));
    // Its commit image goes with the snapshot.
    await api.snapshots.remove(snap);
    expect(leftovers()).toEqual([]);
  });

  it('refuses an unknown tag naming the ref, and credentials the registry refuses as "login failed for HOST"', async () => {
    const unknown = await cli(['run', '--rm', '--driver', 'podman', `${w.tls.host}/test/busybox:nope`]);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining(`image not found: ${w.tls.host}/test/busybox:nope`)]);
    // Hangar has the image; podman does not, and its own pull meets a changed password.
    const job = await api.images.pull({ ref: `${w.tls.host}/test/secure:1` });
    const image = `oci-${w.digests.secure.slice(7, 19)}`;
    await jobDone(api, job);
    writeHtpasswd(w.tls.htpasswd!, AUTH.user, 'changed-meanwhile');
    try {
      const refused = await apiError(api.machines.runOnce({ image, driver: 'podman', argv: [] }, () => undefined));
      expect([refused.status, refused.message]).toEqual([400, `login failed for ${w.tls.host}: the registry refused the credentials`]);
    } finally {
      writeHtpasswd(w.tls.htpasswd!, AUTH.user, AUTH.password);
    }
    expect((await api.machines.list()).items).toEqual([]);
    expect(leftovers()).toEqual([]);
    const ok = await cli(['run', '--rm', '--driver', 'podman', image]);
    expect([ok.stdout, ok.code], ok.stderr).toEqual(['tls only\n', 0]);
    // Deleting the Hangar image removes podman's copy of it too (no container uses it: --rm).
    const held = `${w.tls.host}/test/secure@${w.digests.secure}`;
    expect((await podman(['image', 'exists', held])).code).toBe(0);
    const id = (await api.images.list()).items.find((i) => i.name === image)!.id;
    await api.images.remove(id);
    expect((await podman(['image', 'exists', held])).code).toBe(1);
  });
});

describe('room for the layers', () => {
  const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  /** A manifest on the plain registry declaring one layer of `size` bytes (its blob is small: nothing that big is written). */
  async function declare(tag: string, size: number): Promise<string> {
    const base = `http://${w.http.host}/v2/test/busybox`;
    const blob = Buffer.from(`declared ${tag} ${Date.now()}`);
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location')!, base);
    loc.searchParams.set('digest', sha(blob));
    expect((await fetch(loc, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
    const baseManifest = JSON.parse(fs.readFileSync(path.join(tmp, 'layout/blobs/sha256', w.digests.base.slice(7)), 'utf8')) as { config: unknown };
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: baseManifest.config,
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(blob), size }],
    });
    const put = await fetch(`${base}/manifests/${tag}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status, await put.text()).toBe(201);
    return `${w.http.host}/test/busybox:${tag}`;
  }

  it('refuses a 10 GB layer against the configured cap, and a larger one than the disk has, before fetching: nothing left behind', async () => {
    const before = { layers: storedLayers(), images: (await api.images.list()).items.length };
    const ten = await declare('ten-gb', 10 * 10 ** 9);
    await api.settings.update({ imagePullMaxMib: 8192 });
    try {
      const capped = await apiError(api.images.pull({ ref: ten }));
      expect(capped.status).toBe(400);
      expect(capped.message).toMatch(new RegExp(`^${ten} declares 9\\.3 GiB of layers not stored yet .*; a pull may add at most 8(\\.0)? GiB`));
      const viaCli = await cli(['pull', ten]);
      expect([viaCli.code, viaCli.stderr]).toEqual([1, expect.stringContaining('declares 9.3 GiB')]);
    } finally {
      await api.settings.update({ imagePullMaxMib: 0 });
    }
    const huge = await declare('huge', 2 ** 52);
    const disk = await apiError(api.images.pull({ ref: huge }));
    expect([disk.status, disk.message]).toEqual([400, expect.stringMatching(/declares 4096 TiB of layers .*; the data dir has .* free/)]);
    expect({ layers: storedLayers(), images: (await api.images.list()).items.length }).toEqual(before);
    expect(leftovers()).toEqual([]);
  });
});
