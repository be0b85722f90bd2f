import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '@/lib/contracts/jobs';
import { getSnapshotRow } from '@/db/repo/snapshots';
import { createBody, fakeCore, type FakeCore } from '../testing/fake-core';
import type { RunResult } from './run';

let t: FakeCore;
let clock = Date.parse('2026-03-02T00:00:00Z');
const advance = (ms: number) => (clock += ms);
const HOUR = 3_600_000;

beforeEach(async () => {
  clock = Date.parse('2026-03-02T00:00:00Z');
  t = await fakeCore({ images: ['busybox'], schedules: { now: () => clock, timer: false } });
});
afterEach(async () => {
  await t.close();
});

async function vm(name: string, start = true) {
  await t.done(await t.core.machines.create(t.admin, createBody({ name, start, tags: ['nightly'] })));
  return t.core.machines.get(t.admin, name);
}
const results = async (jobs: Job[]) => Promise.all(jobs.map(async (j) => (await t.done(j)).result as RunResult));
const scheduled = async (id: string) => (await t.core.snapshots.list()).filter((s) => s.machineId === id && s.state === 'complete');

describe('ScheduleService on the fake driver, with a clock the test moves', () => {
  it('fires when due: a live checkpoint of a running machine, a disk one of a stopped machine; nothing before its time', async () => {
    const run = await vm('run');
    const cold = await vm('cold', false);
    const s = await t.core.schedules.create(t.admin, { tag: 'nightly', cron: '0 3 * * *', keep: { last: 3 } });
    expect(s.nextRunAt).toBe(Date.parse('2026-03-02T03:00:00Z'));
    advance(2 * HOUR);
    expect(await t.core.schedules.tick()).toEqual([]);
    advance(HOUR);
    const [r] = await results(await t.core.schedules.tick());
    expect(r.taken).toHaveLength(2);
    expect((await scheduled(run.id)).map((x) => x.kind)).toEqual(['live']);
    expect((await scheduled(cold.id)).map((x) => x.kind)).toEqual(['disk']);
    expect(await t.core.schedules.get(s.id)).toMatchObject({ lastStatus: 'succeeded', lastRunAt: clock, nextRunAt: Date.parse('2026-03-03T03:00:00Z') });
  });

  it('runs missed while the server was down run once at start, not once per missed slot', async () => {
    const m = await vm('web');
    const s = await t.core.schedules.create(t.admin, { machine: 'web', cron: '0 * * * *', keep: { last: 10 } });
    t.core.schedules.stop();
    advance(5.5 * HOUR); // five hourly slots missed
    const jobs = await t.core.schedules.start();
    expect(jobs).toHaveLength(1);
    await results(jobs);
    expect(await scheduled(m.id)).toHaveLength(1);
    expect((await t.core.schedules.get(s.id)).nextRunAt).toBe(Date.parse('2026-03-02T06:00:00Z'));
    expect(await t.core.schedules.tick()).toEqual([]);
  });

  it('after a restart (a new core on the same data dir), a schedule whose slots passed while down runs once', async () => {
    const m = await vm('web');
    const s = await t.core.schedules.create(t.admin, { machine: 'web', cron: '15 * * * *', keep: { last: 10 } });
    advance(7 * HOUR); // seven slots, 00:15 to 06:15, pass while the server is down
    const core = await t.restart({ now: () => clock, timer: true });
    const job = await vi.waitFor(async () => (await core.schedules.get(s.id)).lastJobId!);
    await t.done(await core.jobs.get(t.admin, job));
    expect(await scheduled(m.id)).toHaveLength(1);
    expect(await core.schedules.get(s.id)).toMatchObject({ lastStatus: 'succeeded', nextRunAt: Date.parse('2026-03-02T07:15:00Z') });
    expect((await core.jobs.list(t.admin, { limit: 100 })).filter((j) => j.kind === 'schedule.run')).toHaveLength(1);
  });

  it('prunes what falls out of retention, but keeps what a machine runs on or others build on', async () => {
    const m = await vm('web');
    await t.core.schedules.create(t.admin, { machine: 'web', cron: '0 * * * *', keep: { last: 1 } });
    advance(HOUR);
    const [r1] = await results(await t.core.schedules.tick());
    advance(HOUR);
    const [r2] = await results(await t.core.schedules.tick());
    // The first is the second's parent (a chain of layers): the snapshot service refuses; kept.
    expect(r2).toMatchObject({ pruned: [], keptInUse: r1.taken });
    expect(await getSnapshotRow(t.core.store, r1.taken[0])).toBeDefined();
    // Back to the first: the second is now a leaf no machine runs on.
    await t.done(await t.core.snapshots.restore(t.admin, r1.taken[0], { machine: 'web', checkpointFirst: false }));
    advance(HOUR);
    const [r3] = await results(await t.core.schedules.tick());
    expect(r3.pruned).toEqual(r2.taken);
    expect(r3.keptInUse).toEqual(r1.taken);
    expect((await scheduled(m.id)).map((x) => x.id).sort()).toEqual([...r1.taken, ...r3.taken].sort());
  });

  it('a machine whose driver cannot checkpoint is skipped with the reason logged', async () => {
    await vm('web');
    const real = t.core.machines.describe.bind(t.core.machines);
    vi.spyOn(t.core.machines, 'describe').mockImplementation((k) => {
      const d = real(k);
      return { ...d, checkpoint: { ...d.checkpoint, running: 'none', reason: 'no CRIU here' } };
    });
    const s = await t.core.schedules.create(t.admin, { machine: 'web', cron: '*/5 * * * *', keep: { last: 1 } });
    advance(HOUR);
    const [job] = await t.core.schedules.tick();
    const [r] = await results([job]);
    expect(r).toMatchObject({
      taken: [],
      skipped: [{ machine: 'web', reason: expect.stringMatching(/cannot checkpoint a running machine \(no CRIU here\)/) }],
    });
    expect((await t.core.jobs.logs(t.admin, job.id, -1)).map((l) => l.line).join('\n')).toMatch(/web: skipped: .*no CRIU here/);
    expect((await t.core.schedules.get(s.id)).lastStatus).toBe('succeeded');
  });

  it('a schedule goes with its machine; an unknown machine is a NotFound', async () => {
    await vm('web');
    await t.core.schedules.create(t.admin, { machine: 'web', cron: '0 * * * *', keep: { last: 1 } });
    await t.done(await t.core.machines.destroy(t.admin, 'web'));
    await vi.waitFor(async () => expect(await t.core.schedules.list()).toEqual([]));
    await expect(t.core.schedules.create(t.admin, { machine: 'nope', cron: '0 * * * *', keep: { last: 1 } })).rejects.toThrow(/Machine/);
  });
});
