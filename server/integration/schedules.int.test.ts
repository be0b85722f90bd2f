import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { jobDone, serverWithBusybox, tearDown, type RunningServer } from './harness';

/**
 * Snapshot schedules on real QEMU (TCG) with the busybox image, fired through the API's "run now"
 * (the clock-driven firing and missed runs are unit-tested with a clock the test moves): a live
 * snapshot appears, one that falls out of retention is pruned, and one another builds on is kept.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
const finished = async (job: Job, ms?: number) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
type RunResult = { taken: string[]; pruned: string[]; keptInUse: string[] };
const ids = async () => (await api.snapshots.list()).items.filter((s) => s.machineName === 'sched' && s.state === 'complete').map((s) => s.id);

beforeAll(async () => {
  ({ srv, api, token } = await serverWithBusybox());
  await finished(await api.machines.create({ name: 'sched', image: 'busybox', memoryMib: 256, tags: ['nightly'] }));
}, 300_000);

afterAll(() => tearDown(srv, api), 120_000);

describe('snapshot schedules (busybox, TCG)', () => {
  it('refuses a cron that does not parse, an unknown zone and a retention that keeps nothing, naming the field', async () => {
    const bad = async (b: Record<string, unknown>) =>
      api.schedules.create({ machine: 'sched', cron: '0 3 * * *', keep: { last: 1 }, ...b }).then(
        () => null,
        (e: { status: number; issues?: { path: string }[] }) => ({ status: e.status, paths: e.issues?.map((i) => i.path) }),
      );
    expect(await bad({ cron: '99 * * * *' })).toEqual({ status: 400, paths: ['cron'] });
    expect(await bad({ timeZone: 'Nowhere/City' })).toEqual({ status: 400, paths: ['timeZone'] });
    expect(await bad({ keep: { last: 0 } })).toEqual({ status: 400, paths: ['keep'] });
    await expect(api.schedules.create({ machine: 'nope', cron: '0 3 * * *', keep: { last: 1 } })).rejects.toMatchObject({ status: 404 });
    await expect(api.schedules.run('sch_doesnotexist00')).rejects.toMatchObject({ status: 404 });
  });

  it('a run takes a live snapshot of the running machine and prunes by retention; what others build on is kept', async () => {
    const s = await api.schedules.create({ machine: 'sched', cron: '0 3 * * *', timeZone: 'Europe/Berlin', keep: { last: 1 } });
    expect(s).toMatchObject({ machineName: 'sched', lastStatus: null });
    expect(s.nextRunAt).toBeGreaterThan(Date.now());
    expect((await api.schedules.ofMachine('sched')).items.map((x) => x.id)).toEqual([s.id]);

    const j1 = await finished(await api.schedules.run(s.id));
    const r1 = j1.result as RunResult;
    expect(r1.taken).toHaveLength(1);
    expect(await api.snapshots.get(r1.taken[0])).toMatchObject({ kind: 'live', state: 'complete', machines: [{ name: 'sched' }] });

    // The second run's snapshot stands on the first (its disk layer is backed by it): out of retention but kept.
    const r2 = (await finished(await api.schedules.run(s.id))).result as RunResult;
    expect(r2).toMatchObject({ pruned: [], keptInUse: r1.taken });
    const log = (await api.jobs.logs((await api.schedules.get(s.id)).lastJobId!)).items.map((l) => l.line).join('\n');
    expect(log).toMatch(new RegExp(`kept ${r1.taken[0]} \\(out of retention, but .*below it`));

    // Back to the first: the second is a leaf nothing runs on, and the next run prunes it.
    await finished(await api.snapshots.restore(r1.taken[0], { machine: 'sched', checkpointFirst: false }));
    const r3 = (await finished(await api.schedules.run(s.id))).result as RunResult;
    expect(r3.pruned).toEqual(r2.taken);
    expect((await ids()).sort()).toEqual([...r1.taken, ...r3.taken].sort());
    await expect(api.snapshots.get(r2.taken[0])).rejects.toMatchObject({ status: 404 });
    expect((await api.machines.exec('sched', ['echo', 'alive'])).stdout.trim()).toBe('alive');

    const after = await api.schedules.get(s.id);
    expect(after).toMatchObject({ lastStatus: 'succeeded', nextRunAt: s.nextRunAt });
    const audit = (await api.audit.list({ action: 'schedule.' })).items.map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['schedule.create', 'schedule.run']));
    await api.schedules.remove(s.id);
    expect((await api.schedules.list()).items).toEqual([]);
  }, 300_000);

  it('a tag schedule reaches a stopped machine with a disk checkpoint', async () => {
    await finished(await api.machines.act('sched', 'stop', { force: true }));
    const s = await api.schedules.create({ tag: 'nightly', cron: '*/30 * * * *', keep: { last: 5 } });
    const r = (await finished(await api.schedules.run(s.id))).result as RunResult;
    expect(await api.snapshots.get(r.taken[0])).toMatchObject({ kind: 'disk', state: 'complete' });
    expect((await api.schedules.ofMachine('sched')).items.map((x) => x.tag)).toEqual(['nightly']);
  }, 120_000);

  it('hangar schedule add|ls|rm, a bad cron named with a non-zero exit', async () => {
    const cli = (args: string[]) =>
      run([process.execPath, 'dist/cli.js', 'schedule', ...args], { timeoutMs: 30_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
    const bad = await cli(['add', 'sched', '--cron', '0 3 * *', '--keep-last', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cron: not a cron expression/);
    expect(await cli(['add', 'sched', '--cron', '0 3 * * *'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/keep: would keep nothing/) });
    expect(await cli(['add', '--cron', '0 3 * * *'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: hangar schedule') });
    const added = await cli(['add', 'sched', '--cron', '30 2 * * 1', '--tz', 'UTC', '--keep-last', '2', '--keep-weekly', '4', '--json']);
    expect(added.code).toBe(0);
    const id = (JSON.parse(added.stdout) as { id: string }).id;
    const ls = await cli(['ls', 'sched']);
    expect(ls.stdout).toMatch(new RegExp(`${id}  sched  "30 2 \\* \\* 1" UTC  keep last 2, weekly 4  next \\d{4}-\\d\\d-\\d\\d 02:30  last never run`));
    expect(await cli(['rm', id])).toMatchObject({ code: 0, stdout: `Deleted ${id} (its snapshots stay).\n` });
  });
});
