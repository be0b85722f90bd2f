import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { S3Store } from '@/server/core/backups/s3-store';
import { COUNTER, jobDone, serverWithBusybox, tearDown, type RunningServer } from './harness';
import { startS3, type TestS3 } from './s3-server';

/**
 * Backups of a running busybox VM's live snapshots to a real S3 server (s3rver on 127.0.0.1)
 * and to a directory; the second backup sends only the new layer; a restore on a second,
 * fresh server (its own data dir, only the target configured) runs and carries on; damaged
 * objects and wrong keys are refused cleanly.
 */
let s3: TestS3;
let a: { srv: RunningServer; token: string; api: ApiClient };
let b: { srv: RunningServer; token: string; api: ApiClient };
let dirTarget: string;
const finished = async (api: ApiClient, job: Job, ms?: number) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const counter = async (api: ApiClient, m: string) => Number((await api.machines.exec(m, ['cat', '/tmp/counter'])).stdout.trim());
const sector = async (api: ApiClient, m: string) =>
  (await api.machines.exec(m, ['sh', '-c', 'dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -c 6'])).stdout;
const writeSector = (api: ApiClient, m: string, text: string) =>
  api.machines.exec(m, ['sh', '-c', `printf '%s' "$1" | dd of=/dev/vda bs=512 seek=100 conv=notrunc 2>/dev/null; sync`, 'x', text]);
const s3Body = (name: string) => ({
  kind: 's3' as const,
  name,
  endpoint: s3.endpoint,
  bucket: s3.bucket,
  prefix: 'hangar/it',
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
});
/** Objects of the S3 target under a prefix, as s3rver keeps them on its disk. */
const s3Objects = (under: string) => {
  const dir = path.join(s3.dir, 'hangar', 'it', under);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('._S3rver_object')) : [];
};
type BackupResult = {
  backup: string;
  uploadedObjects: number;
  uploadedBytes: number;
  uploadedLayers: number;
  uploadedLayerBytes: number;
  skippedObjects: number;
};

beforeAll(async () => {
  dirTarget = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bk-dir-'));
  [s3, a, b] = await Promise.all([startS3(), serverWithBusybox(), serverWithBusybox()]);
  await finished(a.api, await a.api.machines.create({ name: 'src', image: 'busybox', memoryMib: 256 }));
  await a.api.machines.exec('src', ['sh', '-c', COUNTER]);
}, 300_000);

afterAll(async () => {
  await Promise.all([tearDown(a?.srv, a?.api), tearDown(b?.srv, b?.api)]);
  await s3?.stop();
  fs.rmSync(dirTarget, { recursive: true, force: true });
}, 120_000);

describe('backups (busybox VM, s3rver and a directory)', () => {
  let c1: string;
  let before: number;
  let first: BackupResult;

  it('refuses targets that cannot be written: wrong keys, no bucket, a missing or data-dir path', async () => {
    const refused = (body: Parameters<ApiClient['backups']['addTarget']>[0]) => expect(a.api.backups.addTarget(body)).rejects.toMatchObject({ status: 400 });
    await refused({ ...s3Body('bad-keys'), accessKeyId: 'WRONG' });
    await expect(a.api.backups.addTarget({ ...s3Body('bad-keys'), accessKeyId: 'WRONG' })).rejects.toThrow(/Target "bad-keys": access denied \(403/);
    await expect(a.api.backups.addTarget({ ...s3Body('no-bucket'), bucket: 'missing-bucket' })).rejects.toThrow(/bucket does not exist/);
    await refused({ kind: 'dir', name: 'nowhere', path: path.join(dirTarget, 'missing') });
    await refused({ kind: 'dir', name: 'inside', path: a.srv.dataDir });
    await refused({ kind: 'dir', name: 'relative', path: 'tmp/x' });
    expect((await a.api.backups.targets()).items).toEqual([]);
    // Nothing of the probes is left on the target.
    expect(fs.readdirSync(s3.dir, { recursive: true }).filter((f) => String(f).includes('probe'))).toEqual([]);
  });

  it('multipart uploads work against this S3 server', async () => {
    const store = new S3Store({ endpoint: s3.endpoint, bucket: s3.bucket, prefix: 'mp', region: 'us-east-1', accessKeyId: 'S3RVER' }, 'S3RVER');
    const n = s3.multipartUploads();
    const data = randomBytes(18 * 2 ** 20);
    await store.put('blobs/big', Readable.from([data.subarray(0, 9 * 2 ** 20), data.subarray(9 * 2 ** 20)]));
    expect(await store.head('blobs/big')).toBe(data.length);
    expect(s3.multipartUploads()).toBe(n + 1);
    await store.remove('blobs/big');
    store.close();
  });

  it('backs up a live snapshot of a running machine to S3 and to a directory; the secret is never shown', async () => {
    const t = await a.api.backups.addTarget(s3Body('s3'));
    expect(t).toMatchObject({ name: 's3', kind: 's3', s3: { bucket: s3.bucket, prefix: 'hangar/it', accessKeyId: 'S3RVER', hasSecret: true } });
    expect(JSON.stringify(await a.api.backups.targets())).not.toContain('secretAccessKey');
    await a.api.backups.addTarget({ kind: 'dir', name: 'dir', path: dirTarget });
    await writeSector(a.api, 'src', 'before');
    before = await counter(a.api, 'src');
    c1 = ((await finished(a.api, await a.api.snapshots.checkpoint('src', 'c1'))).result as { snapshot: string }).snapshot;
    first = (await finished(a.api, await a.api.backups.create('c1', 's3'), 120_000)).result as BackupResult;
    expect(first.uploadedObjects).toBeGreaterThanOrEqual(4); // state, ram, the image's disk, c1's layer
    expect(first.skippedObjects).toBe(0);
    const toDir = (await finished(a.api, await a.api.backups.create(c1, 'dir'), 120_000)).result as BackupResult;
    expect(toDir.uploadedObjects).toBe(first.uploadedObjects);
    for (const t of ['s3', 'dir']) {
      const list = (await a.api.backups.list(t)).items;
      expect(list).toMatchObject([{ machineName: 'src', snapshotLabel: 'c1', kind: 'live', snapshotId: c1, layers: 2 }]);
      expect(list[0].sizeBytes).toBeGreaterThan(list[0].storedBytes);
    }
    expect(fs.readdirSync(path.join(dirTarget, 'layers'))).toHaveLength(2);
    expect(fs.readdirSync(dirTarget).sort()).toEqual(['backups', 'blobs', 'chunks', 'layers']);
  }, 240_000);

  it('a backup of the successor snapshot uploads only the new layer and what changed', async () => {
    await writeSector(a.api, 'src', 'after!');
    await finished(a.api, await a.api.snapshots.checkpoint('src', 'c2'));
    const layersBefore = s3Objects('layers').length;
    const second = (await finished(a.api, await a.api.backups.create('c2', 's3'), 120_000)).result as BackupResult;
    // The image's disk and c1's layer are on the target: skipped (and the SSH identity, unchanged).
    expect(second.skippedObjects).toBeGreaterThanOrEqual(2);
    expect(s3Objects('layers').length).toBe(layersBefore + 1);
    // Only c2's layer went up; the RAM and device state are new in every live snapshot.
    expect(second.uploadedLayers).toBe(1);
    expect(first.uploadedLayers).toBe(2);
    expect(second.uploadedLayerBytes).toBeLessThan(first.uploadedLayerBytes);
    const list = (await a.api.backups.list('s3')).items;
    expect(list.map((x) => x.snapshotLabel)).toEqual(['c2', 'c1']);
    expect(list[0].layers).toBe(3);
  }, 120_000);

  it('restores on a second, fresh server that only configured the target: the machine runs and carries on', async () => {
    await b.api.backups.addTarget(s3Body('offsite'));
    const env = { XDG_CONFIG_HOME: b.srv.dataDir, HANGAR_URL: b.srv.url, HANGAR_TOKEN: b.token };
    const ls = await run([process.execPath, 'dist/cli.js', 'backups', 'ls', 'offsite'], { env, timeoutMs: 30_000 });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/src\s+c1\s/);
    const c1Backup = (await b.api.backups.list('offsite')).items.find((x) => x.snapshotLabel === 'c1')!;
    const r = await run([process.execPath, 'dist/cli.js', 'backups', 'restore', 'offsite', c1Backup.id, '--name', 'copy'], { env, timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(await b.api.machines.get('copy')).toMatchObject({ state: 'running', memoryMib: 256 });
    const v = await counter(b.api, 'copy');
    expect(v).toBeGreaterThanOrEqual(before);
    expect(await sector(b.api, 'copy')).toBe('before');
    await new Promise((res) => setTimeout(res, 400));
    expect(await counter(b.api, 'copy')).toBeGreaterThan(v);
  }, 240_000);

  it('a damaged or missing object fails the restore before anything runs, leaving nothing behind', async () => {
    const [bk] = (await a.api.backups.list('dir')).items;
    const snapsBefore = (await a.api.snapshots.list()).items.length;
    const layer = path.join(dirTarget, 'layers', fs.readdirSync(path.join(dirTarget, 'layers')).sort()[0]);
    const good = fs.readFileSync(layer);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff;
    fs.writeFileSync(layer, bad);
    const job = await jobDone(a.api, await a.api.backups.restore('dir', bk.id, 'broken'));
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/layers\/[0-9a-f]{64} is damaged/);
    fs.writeFileSync(layer, good);
    const ram = (await a.api.backups.list('s3')).items.find((x) => x.snapshotLabel === 'c2')!;
    for (const f of s3Objects('blobs')) fs.rmSync(path.join(s3.dir, 'hangar', 'it', 'blobs', f));
    const missing = await jobDone(a.api, await a.api.backups.restore('s3', ram.id, 'broken'));
    expect(missing).toMatchObject({ state: 'failed' });
    expect(missing.error).toMatch(/not on the target/);
    await expect(a.api.machines.get('broken')).rejects.toMatchObject({ status: 404 });
    expect((await a.api.snapshots.list()).items.length).toBe(snapsBefore);
    expect(fs.readdirSync(path.join(a.srv.dataDir, 'snapshots')).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 120_000);

  it('deleting a backup collects only the objects no other backup names', async () => {
    const env = { XDG_CONFIG_HOME: a.srv.dataDir, HANGAR_URL: a.srv.url, HANGAR_TOKEN: a.token };
    const onDir = (await a.api.backups.list('dir')).items;
    expect(onDir.map((x) => x.snapshotLabel)).toEqual(['c1']);
    const c1b = onDir[0];
    const back = await run([process.execPath, 'dist/cli.js', 'backup', 'c2', '--to', 'dir'], { env, timeoutMs: 120_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/already on dir/);
    expect(fs.readdirSync(path.join(dirTarget, 'layers'))).toHaveLength(3);
    const rm = await run([process.execPath, 'dist/cli.js', 'backups', 'rm', 'dir', c1b.id], { env, timeoutMs: 30_000 });
    expect(rm.code, rm.stderr).toBe(0);
    // c2 stands on every layer c1 had: only c1's state and RAM go.
    expect(fs.readdirSync(path.join(dirTarget, 'layers'))).toHaveLength(3);
    expect((await a.api.backups.list('dir')).items.map((x) => x.snapshotLabel)).toEqual(['c2']);
    expect(rm.stdout).toMatch(/Deleted .* \([1-9]\d* objects/);
  }, 120_000);

  it('a schedule backs up after each checkpoint and keeps its own last N on the target', async () => {
    const sch = await a.api.schedules.create({ machine: 'src', cron: '0 3 * * *', keep: { last: 5 }, backup: { target: 'dir', keep: 1 } });
    expect(sch.backup).toMatchObject({ keep: 1 });
    for (let i = 0; i < 2; i++) await finished(a.api, await a.api.schedules.run(sch.id), 120_000);
    const list = (await a.api.backups.list('dir')).items;
    // c2's backup (by hand) stays; of the schedule's two, only the newest.
    expect(list.filter((x) => x.scheduleId === sch.id)).toHaveLength(1);
    expect(list.filter((x) => x.scheduleId === null).map((x) => x.snapshotLabel)).toEqual(['c2']);
    expect(list.find((x) => x.scheduleId === sch.id)!.snapshotLabel).toMatch(/^src scheduled /);
    await a.api.schedules.remove(sch.id);
  }, 240_000);
});
