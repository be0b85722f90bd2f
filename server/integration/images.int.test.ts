import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, type RunningServer, startServer, tearDown } from './harness';

let srv: RunningServer;
let token: string;

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
});
afterAll(async () => {
  await tearDown(srv, undefined);
});

describe('images', () => {
  it('builds busybox as a job, refuses a second build, and the image boots to its shell under QEMU', async () => {
    const api = client(srv.url, token);
    const viewer = client(srv.url, await adminToken(srv.url, 'viewer'));
    await expect(viewer.images.build({ kind: 'busybox' })).rejects.toMatchObject({ status: 403 });
    await expect(api.images.build({ kind: 'debian-99' as 'busybox' })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });

    const job = await api.images.build({ kind: 'busybox' });
    expect(job.kind).toBe('image.build');
    await expect(api.images.build({ kind: 'busybox' })).rejects.toMatchObject({ status: 409 });
    const done = await jobDone(api, job, 240_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    const logs = (await api.jobs.logs(job.id)).items.map((l) => l.line);
    expect(logs.join('\n')).toMatch(/kernel .* (ready|cached)/);

    const [img] = (await api.images.list()).items;
    expect(img).toMatchObject({ name: 'busybox', state: 'ready' });
    expect(img.sizeBytes).toBeGreaterThan(1_000_000);
    await expect(api.images.build({ kind: 'busybox' })).rejects.toMatchObject({ status: 409 });
    const dir = path.join(srv.dataDir, 'images', 'busybox');
    for (const f of ['kernel', 'initrd.img', 'disk.qcow2']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    expect(fs.readdirSync(path.join(srv.dataDir, 'images')).filter((e) => e.startsWith('.'))).toEqual([]);

    // The image is real: its kernel and init reach the shell on the serial console.
    const boot = await run(
      [
        'qemu-system-x86_64',
        '-accel',
        'tcg',
        '-m',
        '256',
        '-nodefaults',
        '-display',
        'none',
        '-no-reboot',
        '-serial',
        'stdio',
        '-kernel',
        path.join(dir, 'kernel'),
        '-initrd',
        path.join(dir, 'initrd.img'),
        '-append',
        'console=ttyS0 quiet panic=-1 hangar.hostname=probe',
      ],
      { until: 'hangar-ready probe', timeoutMs: 90_000 },
    );
    expect(boot.matched).toBe(true);
  }, 300_000);

  it('deletes an image and its files, not while a machine or a snapshot stands on it', async () => {
    const api = client(srv.url, token);
    const [img] = (await api.images.list()).items;
    // A machine made from it (never started), then a disk snapshot of that machine: each holds the image.
    expect((await jobDone(api, await api.machines.create({ name: 'holder', image: 'busybox', memoryMib: 128, start: false }))).error).toBeNull();
    await expect(api.images.remove(img.id)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/used by 1 machine/) });
    expect((await jobDone(api, await api.snapshots.checkpoint('holder', 'held'))).error).toBeNull();
    expect((await jobDone(api, await api.machines.destroy('holder'))).error).toBeNull();
    await expect(api.images.remove(img.id)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/base of 1 snapshot/) });
    expect(fs.existsSync(path.join(srv.dataDir, 'images', 'busybox', 'disk.qcow2'))).toBe(true);
    const [snap] = (await api.snapshots.list()).items;
    await api.snapshots.remove(snap.id);
    await api.images.remove(img.id);
    expect((await api.images.list()).items).toEqual([]);
    expect(fs.existsSync(path.join(srv.dataDir, 'images', 'busybox'))).toBe(false);
    await expect(api.images.remove(img.id)).rejects.toMatchObject({ status: 404 });
  });
});
