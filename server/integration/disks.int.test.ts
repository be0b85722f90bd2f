import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@/server/drivers/exec';
import type { ApiClient } from '@/lib/api-client';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { jobDone, serverWithBusybox, tearDown, until, type RunningServer } from './harness';

/**
 * Extra disks of a real busybox VM (TCG): added and hot-plugged while it runs (the guest sees a
 * new virtio block device), grown (the guest sees the new size), never shrunk, detached and
 * attached again, kept through a restart, and carried by a live checkpoint into a fork that
 * writes to an overlay of its own (the parent still reads its own bytes). Container volumes: a
 * host directory under the data dir, bind-mounted into an nspawn container at its next start.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
const VM = 'dk-a';
/** The live snapshot with two disks (the fork test makes it, the restore test goes back to it). */
let snap = '';

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  expect((await jobDone(api, await api.machines.create({ name: VM, image: 'busybox', memoryMib: 128 }), 180_000)).error).toBeNull();
}, 400_000);

afterAll(async () => {
  await tearDown(srv, api);
}, 120_000);

const sh = async (machine: string, script: string) => {
  const r = await api.machines.exec(machine, ['sh', '-c', script], 30);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};
const finished = async (job: { id: string; title: string }) => {
  const j = await jobDone(api, job, 180_000);
  expect(j.error).toBeNull();
  return j;
};
/** Extra block devices the guest sees, with their sizes in 512-byte sectors. */
const blockDevs = async (machine: string) => {
  // The root disk (vda) has no serial; extra disks carry their name as one.
  const out = await sh(machine, 'for d in /sys/block/vd*; do s=$(cat $d/serial 2>/dev/null); [ -n "$s" ] && echo "${d##*/} $(cat $d/size) $s"; done; true');
  return out.trim().split('\n').filter(Boolean);
};
/** SCSI disks the guest sees (sda, ...), with their sizes in 512-byte sectors. */
const scsiDevs = async (machine: string) =>
  (await sh(machine, 'for d in /sys/block/sd*; do [ -e $d ] && echo "${d##*/} $(cat $d/size)"; done; true')).trim().split('\n').filter(Boolean);
const raw = (method: string, path: string, body?: unknown) =>
  fetch(`${srv.url}/api/machines/${VM}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const GIB_SECTORS = 2 ** 30 / 512;

describe('VM disks', () => {
  it('refuses bad names, a missing size and unknown disks with the error envelope', async () => {
    for (const name of ['../x', '..', 'a/b', 'A', '-a', 'x'.repeat(33)]) {
      const r = await raw('POST', '/disks', { name, sizeGib: 1 });
      expect(r.status, name).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    // In the path: a name with dots is refused; an encoded slash never reaches a disk route at all.
    expect((await raw('PATCH', '/disks/..x', { attached: true })).status).toBe(400);
    expect((await raw('DELETE', '/disks/a.b')).status).toBe(400);
    expect([400, 404]).toContain((await raw('PATCH', '/disks/..%2Fetc', { attached: true })).status);
    expect((await raw('POST', '/disks', { name: 'nosize' })).status).toBe(400);
    expect((await raw('POST', '/disks', { name: 'vol', sizeGib: 1, guestPath: '/mnt' })).status).toBe(400);
    expect((await raw('PATCH', '/disks/nope', { attached: true })).status).toBe(404);
  });

  it('adds a disk to the running VM: hot-plugged, the guest sees a new virtio block device', async () => {
    const d = await api.machines.disks.add(VM, { name: 'data', sizeGib: 1 });
    expect(d).toMatchObject({ name: 'data', kind: 'disk', sizeGib: 1, bus: 'virtio-blk', attached: true });
    const dev = await until(async () => (await blockDevs(VM)).find((l) => l.endsWith(' data')), 'the hot-plugged disk in the guest', 30_000);
    expect(dev).toBe(`vdb ${GIB_SECTORS} data`);
    await sh(VM, 'echo parent-bytes | dd of=/dev/vdb conv=fsync 2>/dev/null');
    expect((await api.machines.disks.list(VM)).items.map((x) => x.name)).toEqual(['data']);
    await expect(api.machines.disks.add(VM, { name: 'data', sizeGib: 1 })).rejects.toMatchObject({ status: 409 });
  }, 60_000);

  it('grows a disk in the running guest and refuses to shrink it', async () => {
    expect(await api.machines.disks.change(VM, 'data', { sizeGib: 2 })).toMatchObject({ sizeGib: 2 });
    await until(async () => (await blockDevs(VM)).includes(`vdb ${2 * GIB_SECTORS} data`), 'the new size in the guest', 30_000);
    await expect(api.machines.disks.change(VM, 'data', { sizeGib: 1 })).rejects.toMatchObject({ status: 400 });
    expect((await api.machines.disks.list(VM)).items[0].sizeGib).toBe(2);
  }, 60_000);

  it('detaches and attaches again while running; an attached disk cannot be deleted', async () => {
    await expect(api.machines.disks.remove(VM, 'data')).rejects.toMatchObject({ status: 409 });
    // A paused guest cannot let a disk go: QEMU's side is refused with the reason, the disk stays attached.
    await finished(await api.machines.act(VM, 'pause'));
    await expect(api.machines.disks.change(VM, 'data', { attached: false })).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/paused/) });
    await finished(await api.machines.act(VM, 'resume'));
    expect((await api.machines.disks.list(VM)).items[0]).toMatchObject({ name: 'data', attached: true });
    expect(await api.machines.disks.change(VM, 'data', { attached: false })).toMatchObject({ attached: false });
    await until(async () => (await blockDevs(VM)).length === 0, 'the disk gone from the guest', 30_000);
    expect(await api.machines.disks.change(VM, 'data', { attached: true })).toMatchObject({ attached: true });
    await until(async () => (await blockDevs(VM)).some((l) => l.endsWith(' data')), 'the disk back in the guest', 30_000);
    expect(await sh(VM, 'dd if=/dev/vdb bs=12 count=1 2>/dev/null')).toBe('parent-bytes');
  }, 90_000);

  it('hot-plugs a virtio-scsi disk into the running guest: it shows up as /dev/sdX, and goes on detach', async () => {
    // The controller and the disk both come while the guest runs: its virtio_scsi and sd_mod (in the initramfs) take them.
    expect(await api.machines.disks.add(VM, { name: 'scratch', sizeGib: 1, bus: 'virtio-scsi' })).toMatchObject({ bus: 'virtio-scsi', attached: true });
    const dev = await until(async () => (await scsiDevs(VM))[0], 'the SCSI disk in the guest', 60_000);
    expect(dev).toBe(`sda ${GIB_SECTORS}`);
    expect(await sh(VM, 'cat /proc/partitions')).toMatch(/\ssda$/m);
    await sh(VM, 'echo scsi-bytes | dd of=/dev/sda conv=fsync 2>/dev/null');
    expect(await sh(VM, 'dd if=/dev/sda bs=10 count=1 iflag=direct 2>/dev/null')).toBe('scsi-bytes');
    expect(await api.machines.disks.change(VM, 'scratch', { attached: false })).toMatchObject({ attached: false });
    await until(async () => (await scsiDevs(VM)).length === 0, 'the SCSI disk gone from the guest', 30_000);
    expect(await api.machines.disks.remove(VM, 'scratch')).toEqual({ ok: true });
  }, 120_000);

  it('a live checkpoint and its fork keep both disks; the fork writes to overlays of its own', async () => {
    // A second disk on the SCSI bus (its controller is there already: the test above hot-plugged it).
    await api.machines.disks.add(VM, { name: 'logs', sizeGib: 1, bus: 'virtio-scsi' });
    const c = await finished(await api.snapshots.checkpoint(VM, 'two-disks'));
    const snapId = (c.result as { snapshot: string }).snapshot;
    const f = await finished(await api.snapshots.fork(snapId, { names: ['dk-fork'] }));
    const fork = (f.result as { machines: string[] }).machines[0];
    expect((await api.machines.disks.list('dk-fork')).items.map((x) => [x.name, x.attached, x.bus])).toEqual([
      ['data', true, 'virtio-blk'],
      ['logs', true, 'virtio-scsi'],
    ]);
    expect(await sh('dk-fork', 'dd if=/dev/vdb bs=12 count=1 2>/dev/null')).toBe('parent-bytes');
    await sh('dk-fork', 'echo fork-bytes!! | dd of=/dev/vdb conv=fsync 2>/dev/null');
    expect(await sh('dk-fork', 'dd if=/dev/vdb bs=12 count=1 2>/dev/null')).toBe('fork-bytes!!');
    expect(await sh(VM, 'echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vdb bs=12 count=1 iflag=direct 2>/dev/null')).toBe('parent-bytes');
    // Each machine's devices read layers of their own, on the snapshot's frozen ones.
    const files = async (id: string) => {
      const q = await Qmp.connect(`${srv.dataDir}/machines/${id}/qmp.sock`);
      try {
        const blocks = await q.execute<{ qdev?: string; inserted?: { file: string } }[]>('query-block');
        return blocks.filter((b) => b.qdev?.includes('disk-')).map((b) => b.inserted?.file ?? '');
      } finally {
        q.close();
      }
    };
    const parent = (await api.machines.get(VM)).id;
    const [mine, theirs] = [await files(parent), await files(fork)];
    expect(mine).toHaveLength(2);
    expect(theirs).toHaveLength(2);
    for (const file of theirs) expect(mine).not.toContain(file);
    snap = snapId;
  }, 240_000);

  it('a restore puts the disks back as the snapshot had them, on new layers', async () => {
    await api.machines.disks.change(VM, 'data', { attached: false });
    await finished(await api.snapshots.restore(snap, { machine: VM, checkpointFirst: false }));
    expect((await api.machines.disks.list(VM)).items.map((x) => [x.name, x.attached])).toEqual([
      ['data', true],
      ['logs', true],
    ]);
    expect(await sh(VM, 'dd if=/dev/vdb bs=12 count=1 2>/dev/null')).toBe('parent-bytes');
  }, 240_000);

  it('keeps its disks through a restart; deletes a detached one', async () => {
    await finished(await api.machines.act(VM, 'restart'));
    await until(async () => (await blockDevs(VM)).some((l) => l.endsWith(' data')), 'the disk after the restart', 60_000);
    expect(await sh(VM, 'dd if=/dev/vdb bs=12 count=1 2>/dev/null')).toBe('parent-bytes');
    await finished(await api.machines.act(VM, 'stop', { force: true }));
    // Stopped: the record changes, the next start follows it; a resize goes through qemu-img.
    expect(await api.machines.disks.change(VM, 'logs', { sizeGib: 3 })).toMatchObject({ sizeGib: 3 });
    expect(await api.machines.disks.change(VM, 'logs', { attached: false })).toMatchObject({ attached: false });
    expect(await api.machines.disks.remove(VM, 'logs')).toEqual({ ok: true });
    expect((await api.machines.disks.list(VM)).items.map((x) => x.name)).toEqual(['data']);
  }, 240_000);

  it('hangar disk: lists, says what is wrong, and exits non-zero on refusals', async () => {
    const cli = (args: string[]) =>
      run([process.execPath, 'dist/cli.js', 'disk', ...args], { timeoutMs: 60_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
    const ls = await cli(['ls', VM]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^data +2 GiB virtio-blk +attached/);
    const shrink = await cli(['resize', VM, 'data', '--size', '1']);
    expect(shrink.code).not.toBe(0);
    expect(shrink.stderr).toMatch(/only grow/);
    const bad = await cli(['add', VM, '../x', '--size', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/name/);
    expect((await cli(['add', VM, 'x', '--size', 'lots'])).code).toBe(2);
    const add = await cli(['add', VM, 'cli-disk', '--size', '1', '--detached']);
    expect([add.code, add.stdout], add.stderr).toEqual([0, `${VM}: cli-disk added (1 GiB, detached)\n`]);
    expect((await cli(['rm', VM, 'cli-disk'])).code).toBe(0);
  }, 120_000);
});

describe('container volumes (nspawn)', () => {
  const CT = 'vol-ct';

  it('binds a host directory under the data dir into the container, both ways; no resize; detached while it runs', async () => {
    // A busybox root filesystem as an image: an application container needs no init.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-vol-'));
    try {
      const tree = path.join(tmp, 'tree');
      for (const d of ['bin', 'etc', 'usr', 'dev', 'proc', 'sys', 'tmp', 'run']) fs.mkdirSync(path.join(tree, d), { recursive: true });
      fs.copyFileSync('/bin/busybox', path.join(tree, 'bin/busybox'));
      fs.chmodSync(path.join(tree, 'bin/busybox'), 0o755);
      for (const applet of ['sh', 'cat', 'echo', 'ls', 'sleep', 'wc', 'true']) fs.symlinkSync('busybox', path.join(tree, 'bin', applet));
      fs.writeFileSync(path.join(tree, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
      const t = await run(['tar', '-cf', path.join(tmp, 'bb.tar'), '--numeric-owner', '-C', tree, '.'], { timeoutMs: 60_000 });
      expect(t.code, t.stderr).toBe(0);
      await finished(await api.images.importRootfs(new Uint8Array(fs.readFileSync(path.join(tmp, 'bb.tar'))), { name: 'bb-vol' }));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    await finished(await api.machines.create({ name: CT, image: 'bb-vol', driver: 'nspawn', command: ['/bin/sleep', '3600'], start: false }));
    const m = await api.machines.get(CT);
    expect(m.capabilities.disks).toMatchObject({ available: true, kind: 'volume', resize: { available: false } });
    await expect(api.machines.disks.add(CT, { name: 'nopath' })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.disks.add(CT, { name: 'sized', guestPath: '/x', sizeGib: 1 })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.disks.add(CT, { name: 'up', guestPath: '/a/../etc' })).rejects.toMatchObject({ status: 400 });
    expect(await api.machines.disks.add(CT, { name: 'shared', guestPath: '/srv/shared' })).toMatchObject({ kind: 'volume', attached: true, sizeGib: null });
    const hostDir = path.join(srv.dataDir, 'machines', m.id, 'volumes', 'shared');
    fs.writeFileSync(path.join(hostDir, 'from-host'), 'hello from the host\n');
    await finished(await api.machines.act(CT, 'start'));
    // Just started: the first nsenter may come before the container's namespaces are there.
    const ready = () => until(async () => (await api.machines.exec(CT, ['true'], 10)).code === 0, 'the container to take commands', 30_000, 200);
    await ready();
    expect(await sh(CT, 'cat /srv/shared/from-host')).toBe('hello from the host\n');
    await sh(CT, 'echo from the guest > /srv/shared/from-guest');
    expect(fs.readFileSync(path.join(hostDir, 'from-guest'), 'utf8')).toBe('from the guest\n');
    await expect(api.machines.disks.change(CT, 'shared', { sizeGib: 2 })).rejects.toMatchObject({ status: 409 });
    // Detached while it runs (unmounted in its mount namespace), and still detached after a restart.
    expect(await api.machines.disks.change(CT, 'shared', { attached: false })).toMatchObject({ attached: false });
    expect(await sh(CT, 'ls /srv/shared 2>/dev/null | wc -l')).toBe('0\n');
    await finished(await api.machines.act(CT, 'stop', { force: true }));
    await finished(await api.machines.act(CT, 'start'));
    await ready();
    expect(await sh(CT, 'ls /srv/shared 2>/dev/null | wc -l')).toBe('0\n');
    await finished(await api.machines.act(CT, 'stop', { force: true }));
    expect(await api.machines.disks.remove(CT, 'shared')).toEqual({ ok: true });
    expect(fs.existsSync(hostDir)).toBe(false);
  }, 240_000);
});
