import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, startServer, tearDown, until, type RunningServer } from './harness';

/**
 * Container volumes in snapshots, on nspawn and podman (the same verbs: a host directory under
 * the data dir, bound at a guest path from the next start): a checkpoint copies their contents,
 * a fork gets a copy of its own, a restore puts the snapshot's contents back, and a deleted
 * snapshot takes its copy with it.
 */
let srv: RunningServer;
let api: ApiClient;

beforeAll(async () => {
  srv = await startServer();
  api = client(srv.url, await adminToken(srv.url));
  // A busybox root filesystem as an image: an application container needs no init.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-vols-'));
  try {
    const tree = path.join(tmp, 'tree');
    for (const d of ['bin', 'etc', 'usr/bin', 'dev', 'proc', 'sys', 'tmp', 'run']) fs.mkdirSync(path.join(tree, d), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(tree, 'bin/busybox'));
    fs.chmodSync(path.join(tree, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'cat', 'echo', 'ls', 'sleep', 'wc', 'true']) fs.symlinkSync('busybox', path.join(tree, 'bin', applet));
    fs.symlinkSync('/bin/busybox', path.join(tree, 'usr/bin/env'));
    fs.writeFileSync(path.join(tree, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
    const t = await run(['tar', '-cf', path.join(tmp, 'bb.tar'), '--numeric-owner', '-C', tree, '.'], { timeoutMs: 60_000 });
    expect(t.code, t.stderr).toBe(0);
    const j = await jobDone(api, await api.images.importRootfs(new Uint8Array(fs.readFileSync(path.join(tmp, 'bb.tar'))), { name: 'bb-vols' }));
    expect(j.error).toBeNull();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 300_000);

afterAll(async () => {
  await tearDown(srv, api);
}, 120_000);

const finished = async (job: { id: string; title: string }) => {
  const j = await jobDone(api, job, 180_000);
  expect(j.error).toBeNull();
  return j;
};
const ready = (name: string) => until(async () => (await api.machines.exec(name, ['true'], 10)).code === 0, `${name} to take commands`, 30_000, 200);
const read = async (name: string) => {
  await ready(name);
  const r = await api.machines.exec(name, ['sh', '-c', 'cat /srv/data/v 2>/dev/null || echo none'], 20);
  return r.stdout.trim();
};
const write = async (name: string, text: string) => {
  await ready(name);
  expect((await api.machines.exec(name, ['sh', '-c', `echo ${text} > /srv/data/v`], 20)).code).toBe(0);
};

const running = async (name: string) => {
  if ((await api.machines.get(name)).state !== 'running') await finished(await api.machines.act(name, 'start'));
};

/** nspawn: a volume added to the running container is bound at once (its file read inside), detached again, and removed. */
async function hotBind(name: string, hostDir: string) {
  expect(await api.machines.disks.add(name, { name: 'late', guestPath: '/late/in' })).toMatchObject({ attached: true });
  fs.writeFileSync(path.join(hostDir, 'f'), 'bound-live\n');
  expect((await api.machines.exec(name, ['cat', '/late/in/f'], 20)).stdout).toBe('bound-live\n');
  await api.machines.disks.change(name, 'late', { attached: false });
  expect((await api.machines.exec(name, ['cat', '/late/in/f'], 20)).code).not.toBe(0);
  await api.machines.disks.remove(name, 'late');
  expect(fs.existsSync(hostDir)).toBe(false);
}

describe.each(['nspawn', 'podman'] as const)('%s volumes in snapshots', (driver) => {
  const CT = `vs-${driver}`;

  it('binds the volume, checkpoints its contents, forks a copy, restores them, and drops them with the snapshot', async () => {
    await finished(await api.machines.create({ name: CT, image: 'bb-vols', driver, command: ['/bin/sleep', '3600'], start: false }));
    const m = await api.machines.get(CT);
    // nspawn binds volumes into a running container; podman cannot add mounts to one (its description says why).
    expect(m.capabilities.disks).toMatchObject({ available: true, kind: 'volume', hotplug: { available: driver === 'nspawn' } });
    expect(await api.machines.disks.add(CT, { name: 'data', guestPath: '/srv/data' })).toMatchObject({ kind: 'volume', attached: true });
    const hostDir = path.join(srv.dataDir, 'machines', m.id, 'volumes', 'data');
    fs.writeFileSync(path.join(hostDir, 'v'), 'from-host\n');
    await finished(await api.machines.act(CT, 'start'));
    expect(await read(CT)).toBe('from-host');
    if (driver === 'podman') {
      // Running: podman cannot bind a volume now (409 with the reason).
      await expect(api.machines.disks.add(CT, { name: 'late', guestPath: '/late' })).rejects.toMatchObject({
        status: 409,
        message: expect.stringMatching(/podman cannot add or remove mounts of a running container/),
      });
    } else await hotBind(CT, path.join(srv.dataDir, 'machines', m.id, 'volumes', 'late'));

    await write(CT, 'at-checkpoint');
    const snap = ((await finished(await api.snapshots.checkpoint(CT, `${driver}-vol`))).result as { snapshot: string }).snapshot;
    await write(CT, 'after-checkpoint');

    await finished(await api.snapshots.fork(snap, { count: 1, names: [`${CT}-f`] }));
    if ((await api.machines.get(`${CT}-f`)).state !== 'running') await finished(await api.machines.act(`${CT}-f`, 'start'));
    expect((await api.machines.disks.list(`${CT}-f`)).items.map((d) => [d.name, d.guestPath])).toEqual([['data', '/srv/data']]);
    expect(await read(`${CT}-f`)).toBe('at-checkpoint');
    await write(`${CT}-f`, 'fork-only');
    expect(await read(CT)).toBe('after-checkpoint');
    expect(fs.readFileSync(path.join(hostDir, 'v'), 'utf8')).toBe('after-checkpoint\n');

    await finished(await api.machines.act(CT, 'stop', { force: true }));
    await finished(await api.snapshots.restore(snap, { machine: CT, checkpointFirst: false }));
    if ((await api.machines.get(CT)).state !== 'running') await finished(await api.machines.act(CT, 'start'));
    expect(await read(CT)).toBe('at-checkpoint');
    expect(await read(`${CT}-f`)).toBe('fork-only');

    // An archive carries the volumes' contents (a checked member each): the import's fork reads them.
    const archive = new Uint8Array(await (await api.snapshots.exportArchive(snap)).arrayBuffer());
    const members = await run(['tar', '-t'], { input: Buffer.from(archive), timeoutMs: 60_000 });
    expect(members.stdout.split('\n')).toContain('volume-data.tar');
    const imported = await api.snapshots.importArchive(archive);
    await finished(await api.snapshots.fork(imported.id, { count: 1, names: [`${CT}-i`] }));
    await running(`${CT}-i`);
    expect((await api.machines.disks.list(`${CT}-i`)).items.map((d) => [d.name, d.guestPath, d.attached])).toEqual([['data', '/srv/data', true]]);
    expect(await read(`${CT}-i`)).toBe('at-checkpoint');

    // So does a backup (the volume a blob of its own); a backup made before volumes travelled restores them empty.
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-vols-target-'));
    try {
      await api.backups.addTarget({ kind: 'dir', name: `${driver}-dir`, path: target });
      const bk = ((await finished(await api.backups.create(snap, `${driver}-dir`))).result as { backup: string }).backup;
      const manifest = JSON.parse(fs.readFileSync(path.join(target, 'backups', `${bk}.json`), 'utf8')) as Record<string, unknown>;
      expect(manifest.volumes).toMatchObject([{ member: 'volume-data.tar' }]);
      await finished(await api.backups.restore(`${driver}-dir`, bk, `${CT}-b`));
      await running(`${CT}-b`);
      expect(await read(`${CT}-b`)).toBe('at-checkpoint');

      const old = 'bk-0000000000001-oldvols0';
      const before: Record<string, unknown> = { ...manifest, id: old };
      delete before.volumes;
      fs.writeFileSync(path.join(target, 'backups', `${old}.json`), JSON.stringify(before));
      await finished(await api.backups.restore(`${driver}-dir`, old, `${CT}-o`));
      await running(`${CT}-o`);
      expect((await api.machines.disks.list(`${CT}-o`)).items.map((d) => d.name)).toEqual(['data']);
      expect(await read(`${CT}-o`)).toBe('none');
      for (const name of [`${CT}-i`, `${CT}-b`, `${CT}-o`]) await finished(await api.machines.destroy(name));
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
    }

    // The snapshot's copy lives in its directory: deleting it (nothing on it any more) removes the copy.
    for (const name of [CT, `${CT}-f`]) await finished(await api.machines.destroy(name));
    const snapDir = path.join(srv.dataDir, 'snapshots', snap);
    expect(fs.existsSync(path.join(snapDir, 'volumes', 'data', 'v'))).toBe(true);
    await api.snapshots.remove(snap);
    expect(fs.existsSync(snapDir)).toBe(false);
  }, 400_000);
});
