import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { importBusyboxRootfs } from './busybox-tree';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';

/**
 * Container snapshots (nspawn layers, podman commits) as one-file archives and as backups.
 * nspawn: a checkpoint of a debian-12 container exported, imported as a new root snapshot and forked (the file written before the
 * checkpoint is there, the one after is not); backed up to a directory target (a second backup
 * does not send the image root again) and restored into a new container. podman: the same
 * verbs for a commit snapshot of a busybox root, its layers being podman's own (`podman save`).
 */
let srv: RunningServer;
let api: ApiClient;
let dirTarget: string;
let work: string;
const finished = async (job: Job, ms = 300_000) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const cat = async (m: string, f: string) => (await api.machines.exec(m, ['sh', '-c', `cat ${f} 2>/dev/null || echo none`])).stdout.trim();
type BackupResult = { backup: string; uploadedLayers: number; skippedObjects: number };

beforeAll(async () => {
  dirTarget = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-ct-bk-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-ct-arch-'));
  srv = await startServer({ env: { HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache') } });
  api = client(srv.url, await adminToken(srv.url));
  await finished(await api.images.build({ kind: 'debian-12' }), 1_500_000);
  await finished(await api.machines.create({ name: 'ct-src', image: 'debian-12', driver: 'nspawn', memoryMib: 256 }));
}, 1_600_000);

afterAll(async () => {
  await tearDown(srv, api);
  for (const d of [dirTarget, work]) fs.rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('nspawn snapshot archives and backups', () => {
  let snapId: string;

  it('exports a container snapshot as one archive with checksums; the import forks into a container with its files', async () => {
    await api.machines.exec('ct-src', ['sh', '-c', 'echo kept > /root/kept; rm /etc/motd; sync']);
    snapId = ((await finished(await api.snapshots.checkpoint('ct-src', 'ct-point'))).result as { snapshot: string }).snapshot;
    await api.machines.exec('ct-src', ['sh', '-c', 'echo later > /root/later']);

    const res = await api.snapshots.exportArchive(snapId);
    const file = path.join(work, 'ct.hangar.tar');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const members = (await run(['tar', '-tf', file])).stdout.trim().split('\n').sort();
    expect(members).toEqual(['SHA256SUMS', 'manifest.json', 'rootfs.tar']);
    const sums = (await run(['tar', '-xOf', file, 'SHA256SUMS'])).stdout;
    expect(sums).toMatch(/^[0-9a-f]{64} {2}rootfs\.tar$/m);
    expect(sums).toMatch(/^[0-9a-f]{64} {2}manifest\.json$/m);
    // No host path of this server travels in the manifest's record.
    const manifest = JSON.parse((await run(['tar', '-xOf', file, 'manifest.json'])).stdout) as { driver: string; spec: Record<string, unknown> };
    expect(manifest.driver).toBe('nspawn');

    const imported = await api.snapshots.importArchive(new Uint8Array(fs.readFileSync(file)));
    expect(imported).toMatchObject({ driver: 'nspawn', parentId: null, label: 'ct-point (imported)', state: 'complete' });
    await finished(await api.snapshots.fork(imported.id, { count: 1, names: ['ct-imp'] }));
    expect(await cat('ct-imp', '/root/kept')).toBe('kept');
    expect(await cat('ct-imp', '/root/later')).toBe('none');
    expect(await cat('ct-imp', '/etc/motd')).toBe('none');
    expect((await api.machines.exec('ct-imp', ['hostname'])).stdout.trim()).toBe('ct-imp');

    // A damaged member is refused before anything is made.
    const bad = path.join(work, 'bad');
    fs.mkdirSync(bad);
    await run(['tar', '-C', bad, '-xf', file]);
    fs.appendFileSync(path.join(bad, 'rootfs.tar'), 'x');
    await run(['tar', '-C', bad, '-cf', path.join(work, 'bad.tar'), 'manifest.json', 'SHA256SUMS', 'rootfs.tar']);
    await expect(api.snapshots.importArchive(new Uint8Array(fs.readFileSync(path.join(work, 'bad.tar'))))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/rootfs\.tar: checksum mismatch/),
    });

    // The imported root is a layer garbage collection keeps while the container stands on it.
    await api.snapshots.gc();
    expect(await cat('ct-imp', '/root/kept')).toBe('kept');
    await finished(await api.machines.act('ct-imp', 'stop', { force: true }));
    await finished(await api.machines.act('ct-imp', 'start'));
    expect(await cat('ct-imp', '/root/kept')).toBe('kept');
  }, 900_000);

  it('backs a container snapshot up to a directory, the second backup without the unchanged layers, and restores it', async () => {
    await api.backups.addTarget({ kind: 'dir', name: 'dir', path: dirTarget });
    const first = (await finished(await api.backups.create(snapId, 'dir'))).result as BackupResult;
    expect(first.uploadedLayers).toBeGreaterThanOrEqual(2);
    await api.machines.exec('ct-src', ['sh', '-c', 'echo second > /root/second; sync']);
    const c2 = ((await finished(await api.snapshots.checkpoint('ct-src', 'ct-point-2'))).result as { snapshot: string }).snapshot;
    const second = (await finished(await api.backups.create(c2, 'dir'))).result as BackupResult;
    // The image root is on the target already (the same tar bytes): only the new checkpoint's layer goes.
    expect(second.uploadedLayers).toBe(1);
    expect(second.skippedObjects).toBeGreaterThanOrEqual(1);

    const list = (await api.backups.list('dir')).items;
    const b2 = list.find((b) => b.id === second.backup)!;
    expect(b2).toMatchObject({ machineName: 'ct-src', snapshotLabel: 'ct-point-2' });
    await finished(await api.backups.restore('dir', b2.id, 'ct-rest'));
    expect(await api.machines.get('ct-rest')).toMatchObject({ driver: 'nspawn', state: 'running' });
    expect(await cat('ct-rest', '/root/kept')).toBe('kept');
    expect(await cat('ct-rest', '/root/second')).toBe('second');
    expect(await cat('ct-rest', '/root/later')).toBe('later');
    expect(await cat('ct-rest', '/etc/motd')).toBe('none');
  }, 900_000);
});

describe('podman snapshot archives and backups', () => {
  it('exports a commit snapshot, imports it into a container of its own, backs it up without the unchanged root and restores it', async () => {
    // A busybox root (debian-containers commits a debian-12 podman container): every verb here moves the whole root
    // through tar, podman save and import a dozen times, which took 98 s of a busy host with debian-12's 333 MB.
    await importBusyboxRootfs(api, work, 'bb-pm', undefined, { 'etc/motd': 'welcome\n' });
    await finished(await api.machines.create({ name: 'pm-src', image: 'bb-pm', driver: 'podman', memoryMib: 256 }));
    expect(await cat('pm-src', '/etc/motd')).toBe('welcome');
    await api.machines.exec('pm-src', ['sh', '-c', 'echo kept > /root/kept; rm /etc/motd']);
    const snap = ((await finished(await api.snapshots.checkpoint('pm-src', 'pm-point'))).result as { snapshot: string }).snapshot;

    const res = await api.snapshots.exportArchive(snap);
    const file = path.join(work, 'pm.hangar.tar');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    expect((await run(['tar', '-tf', file])).stdout.trim().split('\n').sort()).toEqual(['SHA256SUMS', 'manifest.json', 'rootfs.tar']);
    const manifest = JSON.parse((await run(['tar', '-xOf', file, 'manifest.json'])).stdout) as { driver: string };
    expect(manifest.driver).toBe('podman');
    const imported = await api.snapshots.importArchive(new Uint8Array(fs.readFileSync(file)));
    expect(imported).toMatchObject({ driver: 'podman', label: 'pm-point (imported)', state: 'complete' });
    await finished(await api.snapshots.fork(imported.id, { count: 1, names: ['pm-imp'] }));
    expect(await cat('pm-imp', '/root/kept')).toBe('kept');
    // The deletion before the checkpoint is a whiteout in podman's layer: gone in the import too.
    expect(await cat('pm-imp', '/etc/motd')).toBe('none');

    const pmTarget = path.join(work, 'pm-backups');
    fs.mkdirSync(pmTarget);
    await api.backups.addTarget({ kind: 'dir', name: 'pm', path: pmTarget });
    const first = (await finished(await api.backups.create(snap, 'pm'))).result as BackupResult;
    await api.machines.exec('pm-src', ['sh', '-c', 'echo second > /root/second']);
    const c2 = ((await finished(await api.snapshots.checkpoint('pm-src', 'pm-point-2'))).result as { snapshot: string }).snapshot;
    // The diff reads podman's own overlay layers: the two commits' shared layers are skipped, the new file is found.
    const between = await api.snapshots.diff(snap, c2);
    expect(between).toMatchObject({ driver: 'podman', method: 'layers', sameImage: true });
    expect(between.entries.map((e) => `${e.change} ${e.path}`)).toContain('added /root/second');
    expect(between.entries.some((e) => e.path === '/root/kept' || e.path === '/etc/motd')).toBe(false);
    expect(between.walked.skippedLayers).toBeGreaterThanOrEqual(1);
    await api.machines.exec('pm-src', ['sh', '-c', 'rm /root/kept; echo third > /root/third']);
    const now = await api.snapshots.diffMachine('pm-src');
    const inRoot = now.entries.filter((e) => e.path.startsWith('/root/'));
    expect(inRoot.map((e) => `${e.change} ${e.path}`).sort()).toEqual(['added /root/third', 'removed /root/kept']);
    const second = (await finished(await api.backups.create(c2, 'pm'))).result as BackupResult;
    // podman's layer of the imported root is the same blob in both saves: only the commits above it go again.
    expect(second.skippedObjects).toBeGreaterThanOrEqual(1);
    expect([first.uploadedLayers, second.uploadedLayers]).toEqual([2, 1]);
    const b2 = (await api.backups.list('pm')).items.find((b) => b.id === second.backup)!;
    await finished(await api.backups.restore('pm', b2.id, 'pm-rest'));
    expect(await api.machines.get('pm-rest')).toMatchObject({ driver: 'podman', state: 'running' });
    expect(await cat('pm-rest', '/root/kept')).toBe('kept');
    expect(await cat('pm-rest', '/root/second')).toBe('second');
    expect(await cat('pm-rest', '/etc/motd')).toBe('none');
  }, 900_000);
});
