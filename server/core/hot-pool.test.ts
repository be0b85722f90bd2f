import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HotPool } from './hot-pool';
import { blankBoot } from './machine-admission';
import { createBody, fakeCore, type FakeCore } from './testing/fake-core';

let t: FakeCore;
beforeEach(async () => {
  t = await fakeCore({ images: ['busybox', 'debian-12'] });
});
afterEach(async () => {
  await t.close();
});

const pool = () => t.core.snapshots.hot!;
const fake = () => t.drivers.fake('qemu');

async function liveSnapshot(name = 'src', driver: 'qemu' | 'nspawn' = 'qemu') {
  await t.done(await t.core.machines.create(t.admin, createBody({ name, image: driver === 'qemu' ? 'busybox' : 'debian-12', driver, start: true })));
  const j = await t.done(await t.core.snapshots.checkpoint(t.admin, name));
  return t.core.snapshots.get((j.result as { snapshot: string }).snapshot);
}

async function fork(snap: string, count = 1): Promise<string[]> {
  const j = await t.done(await t.core.snapshots.fork(t.admin, snap, { count }));
  return (j.result as { machines: string[] }).machines;
}

describe('HotPool on the fake driver', () => {
  it('a hot snapshot keeps K standbys; a fork takes one (only the state loaded) and the pool refills', async () => {
    const s = await liveSnapshot();
    expect(s.pool).toBeNull();
    await t.core.snapshots.setHot(s.id, true);
    await pool().kick();
    const hot = await t.core.snapshots.get(s.id);
    expect(hot.hot).toBe(true);
    expect(hot.pool).toMatchObject({ target: 2, ready: 2, starting: 0, reservedMib: 128, residentBytes: 2 * 2 ** 20, reason: null });
    const standbyIds = hot.pool!.standbys.map((x) => x.id);
    expect(fake().standbys.size).toBe(2);
    // Each has a manifest, so a restart after a crash can end it.
    expect(fs.readdirSync(path.join(t.dataDir, 'standby')).sort()).toEqual(standbyIds.map((id) => `${id}.json`).sort());

    const [id] = await fork(s.id);
    expect(standbyIds).toContain(id);
    expect(fake().callsOf('start').at(-1)).toMatchObject({ machine: id, args: { standby: true } });
    expect((await t.core.machines.get(t.admin, id)).state).toBe('running');
    await pool().kick();
    expect((await t.core.snapshots.get(s.id)).pool).toMatchObject({ ready: 2 });
    expect(fake().standbys.size).toBe(2);
  });

  it('forks past the pool go the cold way; the standbys count against the memory limit', async () => {
    const s = await liveSnapshot();
    await t.core.snapshots.setHot(s.id, true);
    await pool().kick();
    expect(pool().reservedMib()).toBe(128);
    const ids = await fork(s.id, 3);
    const starts = fake().callsOf('start').slice(-3);
    expect(starts.filter((c) => (c.args as { standby?: boolean }).standby).length).toBe(2);
    expect(new Set(starts.map((c) => c.machine))).toEqual(new Set(ids));
  });

  it('K lowered ends the extra standbys, K=0 and hot off end them all, a deleted snapshot ends its own', async () => {
    const s = await liveSnapshot();
    await t.core.snapshots.setHot(s.id, true);
    await pool().kick();
    await t.core.settings.update({ hotStandbys: 1 });
    await pool().kick();
    expect(fake().standbys.size).toBe(1);
    await t.core.settings.update({ hotStandbys: 0 });
    await pool().kick();
    expect(fake().standbys.size).toBe(0);
    expect((await t.core.snapshots.get(s.id)).pool).toMatchObject({ target: 0, ready: 0 });
    await t.core.settings.update({ hotStandbys: 2 });
    await pool().kick();
    expect(fake().standbys.size).toBe(2);
    await t.core.snapshots.setHot(s.id, false);
    expect(fake().standbys.size).toBe(0);
    expect((await t.core.snapshots.get(s.id)).pool).toBeNull();
    await t.core.snapshots.setHot(s.id, true);
    await pool().kick();
    expect(fake().standbys.size).toBe(2);
    await t.done(await t.core.machines.destroy(t.admin, 'src'));
    await t.core.snapshots.remove(s.id, false);
    expect(fake().standbys.size).toBe(0);
    expect(fs.readdirSync(path.join(t.dataDir, 'standby'))).toEqual([]);
  });

  it('a stop ends the ready standbys at once, without waiting for one still starting', async () => {
    const s = await liveSnapshot();
    await t.core.settings.update({ hotStandbys: 1 });
    await t.core.snapshots.setHot(s.id, true);
    await pool().kick();
    expect(fake().standbys.size).toBe(1);
    let release = () => {};
    fake().standbyGate = new Promise<void>((r) => (release = r));
    await t.core.settings.update({ hotStandbys: 2 });
    void pool().kick();
    await expect.poll(() => fake().callsOf('standby').length).toBe(2);
    const stopped = pool().stop();
    // The ready one is gone while the second is still held in its start.
    await expect.poll(() => fake().standbys.size).toBe(0);
    expect((await t.core.snapshots.get(s.id)).pool).toMatchObject({ ready: 0, starting: 1 });
    release();
    await stopped;
    expect(fake().standbys.size).toBe(0);
    expect(fs.readdirSync(path.join(t.dataDir, 'standby'))).toEqual([]);
  });

  it('a start-up ends the standbys a previous run left (their manifests); a container snapshot cannot be hot', async () => {
    const s = await liveSnapshot();
    await t.core.snapshots.setHot(s.id, true);
    await pool().kick();
    expect(fake().standbys.size).toBe(2);
    // As a new run after a crash: the manifests under standby/ name processes this run does not know.
    const next = new HotPool({
      store: t.core.store,
      driver: (k) => t.core.machines.driver(k),
      describe: (k) => t.core.machines.describe(k),
      boot: () => Promise.resolve(blankBoot()),
      host: () => t.core.host.info(),
      size: () => 0,
      roomFor: () => Promise.resolve(),
      dirs: { root: t.dataDir, machines: path.join(t.dataDir, 'machines'), layers: path.join(t.dataDir, 'layers') },
      now: () => Date.now(),
    });
    await next.start(false);
    await next.stop();
    expect(fake().standbys.size).toBe(0);
    expect(fs.readdirSync(path.join(t.dataDir, 'standby'))).toEqual([]);

    const ct = await liveSnapshot('ct', 'nspawn');
    await expect(t.core.snapshots.setHot(ct.id, true)).rejects.toThrow(/only live snapshots can be hot/);
  });
});
