import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBody, fakeCore, type FakeCore } from '../testing/fake-core';
import type { RunResult } from './run';

let t: FakeCore;
let clock = Date.parse('2026-03-02T00:00:00Z');
const MIN = 60_000;

beforeEach(async () => {
  clock = Date.parse('2026-03-02T00:00:00Z');
  t = await fakeCore({ images: ['busybox'], schedules: { now: () => clock, timer: false } });
});
afterEach(async () => {
  await t.close();
});

async function vm(name: string) {
  await t.done(await t.core.machines.create(t.admin, createBody({ name })));
  return t.core.machines.get(t.admin, name);
}
/** Move the clock and fire what is due. */
async function after(minutes: number): Promise<RunResult[]> {
  clock += minutes * MIN;
  return Promise.all((await t.core.schedules.tick()).map(async (j) => (await t.done(j)).result as RunResult));
}

describe('UndoService on the fake driver, with a clock the test moves', () => {
  it('takes a point every N minutes by the schedule timer, keeps K, and undoes to the newest point old enough', async () => {
    const m = await vm('web');
    const ring = await t.core.undo.enable(t.admin, m.id, { everyMinutes: 5, keep: 3 });
    expect(ring).toMatchObject({ everyMinutes: 5, keep: 3, nextRunAt: clock + 5 * MIN, points: [] });
    // Undo rings are no snapshot schedules.
    expect(await t.core.schedules.list()).toEqual([]);
    expect(await after(4)).toEqual([]);
    const taken: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [r] = await after(i === 0 ? 1 : 5);
      taken.push(...r.taken);
      if (i === 3) expect(r.pruned).toEqual([taken[0]]);
    }
    const view = await t.core.undo.get(m.id);
    expect(view.points.map((p) => p.id)).toEqual([taken[3], taken[2], taken[1]]);
    expect((await t.core.snapshots.get(taken[1])).undoPoint).toBe(true);
    // Points at 10, 15, 20 minutes; now 20. Six minutes back is 14: the point of 10.
    await expect(t.core.undo.undo(t.admin, m.id, 11)).rejects.toThrow(/oldest undo point is 10 minutes old/);
    await t.done(await t.core.undo.undo(t.admin, m.id, 6));
    expect((await t.core.machines.get(t.admin, m.id)).snapshotId).toBe(taken[1]);
    // Turning it off stops the points; those taken stay.
    await t.core.undo.disable(m.id);
    expect(await after(60)).toEqual([]);
    expect((await t.core.snapshots.get(taken[2])).undoPoint).toBe(true);
    await expect(t.core.undo.undo(t.admin, m.id, 1)).rejects.toThrow(/undo ring is off/);
  });

  it('never prunes a point another snapshot builds on or a machine runs on', async () => {
    const m = await vm('web');
    await t.core.undo.enable(t.admin, m.id, { everyMinutes: 5, keep: 1 });
    const [a] = await after(5);
    // A checkpoint by hand stands on the point.
    await t.done(await t.core.snapshots.checkpoint(t.admin, 'web', 'by hand'));
    const [b] = await after(5);
    expect(b).toMatchObject({ pruned: [], keptInUse: a.taken });
    const [c] = await after(5);
    // The second point's child is the third, an undo point: it goes; the first stays for the hand-made one.
    expect(c.pruned).toEqual(b.taken);
    expect(c.keptInUse).toEqual(a.taken);
  });
});
