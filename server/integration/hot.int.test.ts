import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { jobDone, serverWithBusybox, tearDown, until, type RunningServer } from './harness';

/**
 * Hot snapshots on real QEMU (TCG) with the busybox image: a live snapshot marked hot keeps K
 * qemu processes waiting on `-incoming defer`; a fork takes one (its machine is the standby's),
 * runs and answers exec, and the pool refills; more forks than K at once still work (the rest
 * cold); K lowered, K=0, hot off and the snapshot deleted end the processes (checked by pid).
 */
let srv: RunningServer;
let api: ApiClient;
let snap: string;

beforeAll(async () => {
  ({ srv, api } = await serverWithBusybox());
  expect((await jobDone(api, await api.machines.create({ name: 'hot-src', image: 'busybox', memoryMib: 128 }), 120_000)).error).toBeNull();
  await api.machines.exec('hot-src', ['sh', '-c', 'echo carried-$((20+22)) > /tmp/mark']);
  const j = await jobDone(api, await api.snapshots.checkpoint('hot-src', 'hot-base'), 120_000);
  expect(j.error).toBeNull();
  snap = (j.result as { snapshot: string }).snapshot;
}, 400_000);

afterAll(() => tearDown(srv, api), 180_000);

/** A qemu process of this pid, alive and still waiting for its state or running. */
const qemuAlive = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('qemu-system');
  } catch {
    return false;
  }
};

const pool = async () => (await api.snapshots.get(snap)).pool;
const ready = (n: number) => until(async () => ((await pool())?.ready === n ? pool() : null), `${n} standbys ready`, 60_000, 200);

const logOf = async (job: Job) => (await api.jobs.logs(job.id)).items.map((l) => l.line).join('\n');

async function fork(count: number): Promise<{ job: Job; ids: string[] }> {
  const job = await jobDone(api, await api.snapshots.fork(snap, { count }), 120_000);
  expect(job.error).toBeNull();
  return { job, ids: (job.result as { machines: string[] }).machines };
}

describe('hot snapshots', () => {
  let pids: number[] = [];

  it('a hot snapshot keeps K (default 2) qemu processes waiting on -incoming defer', async () => {
    expect((await api.settings.get()).hotStandbys).toBe(2);
    expect((await api.snapshots.get(snap)).pool).toBeNull();
    expect((await api.snapshots.hot(snap, true)).hot).toBe(true);
    const p = (await ready(2))!;
    expect(p).toMatchObject({ target: 2, reason: null, reservedMib: 256 });
    expect(p.residentBytes).toBeGreaterThan(0);
    pids = p.standbys.map((s) => s.pid!);
    for (const pid of pids) {
      expect(qemuAlive(pid)).toBe(true);
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')).toContain('defer');
    }
  }, 120_000);

  it('a fork takes a standby, runs and answers exec, carrying on from the snapshot; the pool refills', async () => {
    const before = (await pool())!.standbys;
    const { job, ids } = await fork(1);
    expect(before.map((s) => s.id)).toContain(ids[0]);
    expect(await logOf(job)).toMatch(/1 of 1 from the hot snapshot's standbys/);
    const m = await api.machines.get(ids[0]);
    expect(m.state).toBe('running');
    const r = await api.machines.exec(ids[0], ['cat', '/tmp/mark']);
    expect(r.stdout.trim()).toBe('carried-42');
    expect((await api.machines.exec(ids[0], ['hostname'])).stdout.trim()).toBe(m.name);
    const refilled = (await ready(2))!;
    expect(refilled.standbys.map((s) => s.id)).not.toContain(ids[0]);
    pids = refilled.standbys.map((s) => s.pid!);
  }, 180_000);

  it('more forks than K at once: K from the pool, the rest cold, all run', async () => {
    const { job, ids } = await fork(3);
    expect(await logOf(job)).toMatch(/2 of 3 from the hot snapshot's standbys/);
    for (const id of ids) expect((await api.machines.exec(id, ['cat', '/tmp/mark'])).stdout.trim()).toBe('carried-42');
    pids = (await ready(2))!.standbys.map((s) => s.pid!);
    for (const id of ids) await jobDone(api, await api.machines.destroy(id), 60_000);
  }, 240_000);

  it('K lowered ends the extra, K=0 ends all, hot off ends them, a deleted snapshot ends its own', async () => {
    await api.settings.update({ hotStandbys: 1 });
    await ready(1);
    await until(() => pids.filter(qemuAlive).length === 1, 'one standby ended', 20_000, 100);
    await api.settings.update({ hotStandbys: 0 });
    await until(async () => (await pool())?.target === 0 && (await pool())?.ready === 0, 'the pool emptied', 20_000, 100);
    await until(() => pids.every((pid) => !qemuAlive(pid)), 'every standby ended', 20_000, 100);

    await api.settings.update({ hotStandbys: 2 });
    pids = (await ready(2))!.standbys.map((s) => s.pid!);
    expect((await api.snapshots.hot(snap, false)).pool).toBeNull();
    await until(() => pids.every((pid) => !qemuAlive(pid)), 'hot off ended the standbys', 20_000, 100);

    await api.snapshots.hot(snap, true);
    pids = (await ready(2))!.standbys.map((s) => s.pid!);
    for (const m of (await api.machines.list()).items) await jobDone(api, await api.machines.destroy(m.id), 60_000);
    await api.snapshots.remove(snap);
    await until(() => pids.every((pid) => !qemuAlive(pid)), 'deleting the snapshot ended its standbys', 20_000, 100);
    expect(fs.readdirSync(`${srv.dataDir}/standby`)).toEqual([]);
  }, 300_000);
});
