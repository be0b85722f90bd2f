import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getSnapshotRow, insertSnapshot } from '@/db/repo/snapshots';
import { ConflictError } from './errors';
import { collectGarbage } from './snapshot-gc';
import { createBody, fakeCore, type FakeCore } from './testing/fake-core';

let t: FakeCore;
beforeEach(async () => {
  t = await fakeCore();
});
afterEach(async () => {
  await t.close();
});

/** A running machine of the fake VM driver (live checkpoints), or of the fake nspawn one (files only). */
async function machine(name: string, driver: 'qemu' | 'nspawn' = 'qemu', start = true) {
  const image = driver === 'qemu' ? 'busybox' : 'debian-12';
  await t.done(await t.core.machines.create(t.admin, createBody({ name, image, driver, start })));
  return t.core.machines.get(t.admin, name);
}

const checkpoint = async (ref: string, label?: string) => {
  const j = await t.done(await t.core.snapshots.checkpoint(t.admin, ref, label));
  return t.core.snapshots.get((j.result as { snapshot: string }).snapshot);
};

describe('SnapshotService on the fake driver', () => {
  it('a live checkpoint of a running VM: complete, its state summed, the machine on a new layer and on the new node', async () => {
    const m = await machine('src');
    const before = (await t.core.machines.spec(m.id)).spec.runtime.disk;
    const s = await checkpoint('src', 'clean');
    expect(s).toMatchObject({ kind: 'live', state: 'complete', label: 'clean', machineId: m.id, sizeBytes: 4096, pauseMs: 1 });
    const row = (await getSnapshotRow(t.core.store, s.id))!;
    expect(row.diskPath).toBe(before);
    expect(JSON.parse(row.specJson)).toMatchObject({ cpus: 1, memoryMib: 64, diskGib: 2, shell: false });
    expect(fs.readFileSync(path.join(row.path, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}state\n$/);
    const after = await t.core.machines.spec(m.id);
    expect(after.spec.runtime.disk).not.toBe(before);
    expect(after.row.snapshotId).toBe(s.id);
  });

  it('a stopped machine checkpoints its disk only; a container its files, whatever its state', async () => {
    await machine('cold', 'qemu', false);
    expect(await checkpoint('cold')).toMatchObject({ kind: 'disk', state: 'complete' });
    await machine('ct', 'nspawn');
    expect(await checkpoint('ct')).toMatchObject({ kind: 'disk', state: 'complete', pauseMs: null });
  });

  it('a checkpoint that fails leaves a failed node and no files, and the machine free again', async () => {
    const m = await machine('flaky');
    t.drivers.fake('qemu').failNext('checkpoint', new Error('disk full'));
    await expect(t.done(await t.core.snapshots.checkpoint(t.admin, 'flaky'))).rejects.toThrow(/disk full/);
    const [s] = await t.core.snapshots.list();
    expect(s).toMatchObject({ state: 'failed', machineId: m.id });
    expect(fs.readdirSync(path.join(t.dataDir, 'snapshots'))).toEqual([]);
    expect(t.core.machines.locks.has(m.id)).toBe(false);
  });

  it('restore checkpoints first, branches the machine onto the snapshot, drops the layer it ran on and carries on from the saved state', async () => {
    const m = await machine('rs');
    const snap = await checkpoint('rs', 'good');
    const layerBefore = (await t.core.machines.spec(m.id)).spec.runtime.disk as string;
    const fake = t.drivers.fake('qemu');
    fake.calls.length = 0;
    const job = await t.done(await t.core.snapshots.restore(t.admin, snap.id, {}));
    expect(job.result).toMatchObject({ machine: m.id, snapshot: snap.id, runningMs: expect.any(Number) });
    const list = await t.core.snapshots.list();
    expect(list.map((s) => s.label)).toEqual(['good', 'rs before restore']);
    // A VM's new layer is a new file: it is made while the old process stops.
    const calls = fake.calls.map((c) => c.method);
    expect([calls[0], [...calls.slice(1, 3)].sort(), ...calls.slice(3)]).toEqual(['checkpoint', ['branch', 'stop'], 'discard', 'start', 'fixup']);
    expect(fake.callsOf('branch')[0].args).toMatchObject({ mode: 'restore', targets: [m.id] });
    expect(fake.callsOf('start')[0].args).toEqual({ from: (await getSnapshotRow(t.core.store, snap.id))!.path });
    // The layer it ran on was frozen by the checkpoint first: kept; the one after it went.
    expect(fs.existsSync(layerBefore)).toBe(true);
    expect(await t.core.machines.spec(m.id)).toMatchObject({ row: { state: 'running', snapshotId: snap.id } });
  });

  it('a container is stopped before its new layer is made (its driver cannot branch beside it), then booted from its files', async () => {
    await machine('ct', 'nspawn');
    const snap = await checkpoint('ct');
    const fake = t.drivers.fake('nspawn');
    fake.calls.length = 0;
    await t.done(await t.core.snapshots.restore(t.admin, snap.id, { checkpointFirst: false }));
    expect(fake.calls.map((c) => c.method)).toEqual(['stop', 'branch', 'discard', 'start']);
    expect(fake.callsOf('start')[0].args).toEqual({ from: null });
  });

  it('restore refuses a snapshot of another driver, and one whose saved state was damaged, before touching the machine', async () => {
    await machine('vm');
    await machine('ct', 'nspawn');
    const snap = await checkpoint('vm');
    await expect(t.core.snapshots.restore(t.admin, snap.id, { machine: 'ct' })).rejects.toThrow(/ct is a nspawn machine; this snapshot is qemu/);
    fs.appendFileSync(path.join((await getSnapshotRow(t.core.store, snap.id))!.path, 'state'), 'x');
    const err = await t.core.snapshots.restore(t.admin, snap.id, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/damaged: state: checksum mismatch/);
    expect(t.drivers.fake('qemu').callsOf('branch')).toEqual([]);
  });

  it('fork makes N machines on the snapshot, each with its own layer, name and fix-ups, all running', async () => {
    await machine('base');
    const snap = await checkpoint('base');
    const job = await t.done(await t.core.snapshots.fork(t.admin, snap.id, { count: 3 }));
    const ids = (job.result as { machines: string[] }).machines;
    expect(ids).toHaveLength(3);
    const forks = await Promise.all(ids.map((id) => t.core.machines.get(t.admin, id)));
    expect(forks.map((f) => [f.name, f.state, f.snapshotId])).toEqual([1, 2, 3].map((i) => [`base-fork-${i}`, 'running', snap.id]));
    const fake = t.drivers.fake('qemu');
    expect(fake.callsOf('branch').at(-1)!.args).toMatchObject({ mode: 'fork', targets: ids });
    expect(
      fake
        .callsOf('fixup')
        .map((c) => (c.args as { hostname: string }).hostname)
        .sort(),
    ).toEqual(['base-fork-1', 'base-fork-2', 'base-fork-3']);
    const disks = await Promise.all(ids.map(async (id) => (await t.core.machines.spec(id)).spec.runtime.disk));
    expect(new Set(disks).size).toBe(3);
    expect((await t.core.snapshots.get(snap.id)).machines.map((x) => x.name).sort()).toEqual(['base', 'base-fork-1', 'base-fork-2', 'base-fork-3']);
    await expect(t.core.snapshots.fork(t.admin, snap.id, { names: ['base'] }).then((j) => t.done(j))).rejects.toThrow(/named "base" exists already/);
  });

  it('GC refuses a snapshot with children, or with machines on it; cascade takes the subtree once nothing runs on it', async () => {
    await machine('g');
    const a = await checkpoint('g', 'a');
    const b = await checkpoint('g', 'b');
    expect(b.parentId).toBe(a.id);
    await expect(t.core.snapshots.remove(a.id, false)).rejects.toThrow(/1 snapshot below it/);
    // The machine stands on b now, and through its layer chain on a too.
    await expect(t.core.snapshots.remove(b.id, false)).rejects.toThrow(/Machines run on this snapshot: g/);
    await expect(t.core.snapshots.remove(a.id, true)).rejects.toThrow(/Machines run on this snapshot or below it: g/);
    await t.done(await t.core.machines.destroy(t.admin, 'g'));
    const paths = [(await getSnapshotRow(t.core.store, a.id))!.path, (await getSnapshotRow(t.core.store, b.id))!.path];
    await t.core.snapshots.remove(a.id, true);
    expect(await t.core.snapshots.list()).toEqual([]);
    for (const p of paths) expect(fs.existsSync(p)).toBe(false);
  });

  it('garbage collection keeps every layer a machine or snapshot chain reaches, and removes old strays', async () => {
    const m = await machine('gc');
    await checkpoint('gc');
    const layers = path.join(t.dataDir, 'layers');
    const stray = path.join(layers, 'stray.layer');
    fs.writeFileSync(stray, '');
    const young = path.join(layers, 'young.layer');
    fs.writeFileSync(young, '');
    const old = new Date(Date.now() - 3600_000);
    for (const f of fs.readdirSync(layers)) if (f !== 'young.layer') fs.utimesSync(path.join(layers, f), old, old);
    const r = await t.core.snapshots.gc();
    expect(r).toMatchObject({ removedFiles: 1, removedSnapshots: 0 });
    expect(fs.existsSync(stray)).toBe(false);
    expect(fs.existsSync(young)).toBe(true);
    const chain = t.drivers.fake('qemu').layersOf((await t.core.machines.spec(m.id)).spec.runtime);
    expect(chain).toHaveLength(2);
    for (const f of chain) expect(fs.existsSync(f)).toBe(true);
    // Asked directly too, with no minimum age: what nothing references goes, the chain stays.
    expect(
      await collectGarbage(t.core.store, { snapshots: path.join(t.dataDir, 'snapshots'), layers }, t.core.machines, { failed: true, minAgeMs: 0 }),
    ).toMatchObject({
      removedFiles: 1,
    });
    for (const f of chain) expect(fs.existsSync(f)).toBe(true);
  });

  it('export is refused with the reason the driver gives when its snapshots have no archive', async () => {
    await machine('ct', 'nspawn');
    const s = await checkpoint('ct');
    await expect(t.core.snapshots.exportArchive(s.id)).rejects.toThrow(/fake containers do not export/);
  });

  it('a checkpoint cut off by a server stop is failed at start-up and its machine repaired by the driver', async () => {
    const m = await machine('cut');
    await insertSnapshot(t.core.store, {
      id: 'snp_interrupted0001',
      parentId: null,
      machineId: m.id,
      kind: 'live',
      state: 'pending',
      sizeBytes: 0,
      pauseMs: null,
      path: path.join(t.dataDir, 'snapshots', 'snp_interrupted0001'),
      createdAt: Date.now(),
      label: 'half',
      driver: 'qemu',
      image: 'busybox',
      diskPath: '',
      specJson: '{}',
    });
    await t.core.snapshots.recover();
    expect(await t.core.snapshots.get('snp_interrupted0001')).toMatchObject({ state: 'failed', label: 'half (interrupted)' });
    expect(
      t.drivers
        .fake('qemu')
        .callsOf('repair')
        .map((c) => c.machine),
    ).toEqual([m.id]);
  });
});
