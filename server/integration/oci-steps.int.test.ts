import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '@/lib/api-client';
import { probeMatrixSchema } from '@/lib/contracts/probes';
import type { BuildResult } from '@/lib/contracts/steps';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';
import { busyboxRoot, push, writeLayout, type RegistryInfo } from './oci-registry';
import { sharedRegistries } from './oci-world';

/**
 * Step chains from OCI images: `hangar build docker://HOST/NAME:TAG + ...` pulls the image on first
 * use (from Debian's docker-registry started here, images built here from busybox-static) and builds
 * on an nspawn container of it; the cache key has the manifest digest, so a tag pushed again with
 * other content builds again and the same digest hits. Probes across images (postroj's selftest): the
 * probe on two of these images in parallel, a matrix of image × check.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let reg: RegistryInfo;
let tmp: string;
/** Two versions of the same tag: their layouts and manifest digests. */
const v: Record<'one' | 'two', { layout: string; digest: string }> = { one: { layout: '', digest: '' }, two: { layout: '', digest: '' } };

const cli = (args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 300_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const build = async (chain: string, name: string) => {
  const j = await jobDone(api, await api.steps.build({ chain, name }), 300_000);
  expect(j.error).toBeNull();
  return j.result as BuildResult;
};
const sh = async (machine: string, script: string) => (await api.machines.exec(machine, ['sh', '-c', script])).stdout;

/** An OCI layout with one image tagged `chain`: busybox, and for `two` a layer more. */
function layout(dir: string, extra: boolean): { layout: string; digest: string } {
  const layers = [busyboxRoot(path.join(dir, 'base'))];
  if (extra) {
    fs.mkdirSync(path.join(dir, 'extra/etc'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'extra/etc/version'), 'two\n');
    layers.push(path.join(dir, 'extra'));
  }
  const out = path.join(dir, 'layout');
  writeLayout(out, [{ tag: 'chain', layers, config: { Cmd: ['/bin/sh', '-c', 'echo server; exec sleep 600'], Env: ['PATH=/bin'], User: '1000:1000' } }]);
  const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return { layout: out, digest: index.manifests[0].digest };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-oci-steps-'));
  reg = sharedRegistries().http;
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  await api.registries.put(reg.host, { insecure: true });
  v.one = layout(path.join(tmp, 'one'), false);
  v.two = layout(path.join(tmp, 'two'), true);
  push(v.one.layout, 'chain', reg, 'test/chain:1');
  push(v.two.layout, 'chain', reg, 'test/other:1');
}, 120_000);

afterAll(async () => {
  // tearDown removes the machines, then the data dir (c/storage's overlay mount included).
  await tearDown(srv, api);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('step chains from OCI images', () => {
  it('pulls the image on first use and builds the chain on an nspawn container of it', async () => {
    const chain = [`docker://${reg.host}/test/chain:1`, '--network', 'private', '+', 'exec', '--', 'sh', '-c', 'echo built > /etc/built'];
    const r = await cli(['build', '--name', 'oc-a', ...chain]);
    expect(r.code, r.stderr).toBe(0);
    const img = (await api.images.list()).items.find((i) => i.kind === 'oci');
    expect(img).toMatchObject({ name: `oci-${v.one.digest.slice(7, 19)}`, state: 'ready' });
    const m = await api.machines.get('oc-a');
    expect(m).toMatchObject({ driver: 'nspawn', state: 'running', image: img!.name });
    expect(await sh('oc-a', 'cat /etc/built; ls /etc/version 2>&1 || true')).toMatch(/^built\n.*No such file/);
  });

  it('hits the cache for the same digest, and builds again when the tag is pushed with another digest', async () => {
    const chain = `docker://${reg.host}/test/chain:1 --network private + exec -- sh -c 'echo built > /etc/built'`;
    const warm = await build(chain, 'oc-b');
    expect([warm.hits, warm.ran]).toEqual([2, 0]);
    expect(await sh('oc-b', 'cat /etc/built')).toBe('built\n');

    push(v.two.layout, 'chain', reg, 'test/chain:1');
    const moved = await build(chain, 'oc-c');
    expect([moved.hits, moved.ran]).toEqual([0, 2]);
    expect(moved.keys[0]).not.toBe(warm.keys[0]);
    expect(await sh('oc-c', 'cat /etc/version /etc/built')).toBe('two\nbuilt\n');

    // The first digest again under the same tag: its cached steps are still good.
    push(v.one.layout, 'chain', reg, 'test/chain:1');
    const back = await build(chain, 'oc-d');
    expect([back.hits, back.ran, back.keys]).toEqual([2, 0, warm.keys]);
  });

  it('refuses an unknown tag before any job, naming the ref', async () => {
    const e = await api.steps.build({ chain: `docker://${reg.host}/test/chain:nope + exec -- true`, name: 'oc-e' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiError);
    expect([(e as ApiError).status, (e as ApiError).message]).toEqual([404, expect.stringContaining(`${reg.host}/test/chain:nope`)]);
    expect((await api.machines.list()).items.map((x) => x.name)).not.toContain('oc-e');
  });
});

describe('probes across images', () => {
  it('runs the probe on each image in parallel and prints a matrix of image × check, ok or fail with why', async () => {
    const url = `http://${reg.host}/v2/`;
    const refs = [`docker://${reg.host}/test/chain:1`, `docker://${reg.host}/test/other:1`];
    const args = ['probe', '--image', refs[0], '--image', refs[1], '--package', 'hello', '--check-unit', 'hello', '--check-network', url];
    const r = await cli(args);
    // busybox images have no apt-get and no systemd: those checks fail with the reason; the registry answers the host.
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^FAILED on 0 of 2 images in [\d.]+ s$/);
    expect(lines[1]).toMatch(new RegExp(`^IMAGE\\s+package hello\\s+unit hello\\s+network ${url}$`));
    for (const [i, d] of [v.one.digest, v.two.digest].entries())
      expect(lines[2 + i]).toMatch(new RegExp(`^oci-${d.slice(7, 19)}\\s+fail: no apt-get in this image\\s+fail: no systemd running\\s+ok$`));

    // The API: several images, the job's result the matrix; each image in a throwaway container, all removed.
    const images = (await api.images.list()).items.filter((i) => i.kind === 'oci').map((i) => i.name);
    const job = await jobDone(api, await api.probes.start({ images, packages: ['hello'], checkNetwork: url }), 300_000);
    const m = probeMatrixSchema.parse(job.result);
    expect(m.checks).toEqual(['package hello', `network ${url}`]);
    expect(m.rows.map((x) => [x.image, x.cells.map((c) => c.ok)])).toEqual(images.map((i) => [i, [false, true]]));
    const logs = (await api.jobs.logs(job.id)).items.map((l) => l.line);
    for (const i of images) expect(logs.some((l) => l.startsWith(`[${i}] `))).toBe(true);
    expect((await api.machines.list()).items.filter((x) => x.name.startsWith('probe-'))).toEqual([]);
    // An image that is not here is a row that failed, the others still probed.
    const gone = await jobDone(api, await api.probes.start({ images: [images[0], 'nosuch-image'], packages: ['hello'] }), 300_000);
    expect(probeMatrixSchema.parse(gone.result).rows.map((x) => [x.image, x.report === null])).toEqual([
      [images[0], false],
      ['nosuch-image', true],
    ]);
  });
});
