import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noLimits } from '@/lib/contracts/limits';
import { LimitExceededError } from './limits';
import { createBody, fakeCore, type FakeCore } from './testing/fake-core';

let t: FakeCore;
beforeEach(async () => {
  t = await fakeCore({ images: ['busybox'] });
});
afterEach(() => t.close());

const setRoleLimits = (operator: Partial<typeof noLimits>) =>
  t.core.settings.update({ roleLimits: { ...t.core.settings.get().roleLimits, operator: { ...noLimits, ...operator } } });

describe('limits per user', () => {
  it('20 creates at once against a limit of 5 make exactly 5; the others are 409s naming the limit', async () => {
    await setRoleLimits({ machines: 5 });
    const op = await t.as('operator');
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => t.core.machines.create(op, createBody({ name: `race-${i}`, start: false }))));
    const made = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(made).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(LimitExceededError);
      expect(r.reason).toMatchObject({ code: 'conflict', limit: 'machines', issues: [{ path: 'limits.machines' }] });
      expect(r.reason.message).toMatch(/Limit reached: machines\. This would make 6 of 5 allowed/);
    }
    for (const r of made) await t.done((r as PromiseFulfilledResult<Awaited<ReturnType<typeof t.core.machines.create>>>).value);
    expect((await t.core.limits.of(op.user.id)).usage).toEqual({ machines: 5, vcpus: 5, memoryMib: 320, diskGib: 10 });
    // Another user has limits of their own.
    const other = await t.as('operator');
    await t.done(await t.core.machines.create(other, createBody({ name: 'other-1', start: false })));
  });

  it('counts vCPUs, memory and disk; a user override wins over the role, null lifts a limit', async () => {
    await setRoleLimits({ memoryMib: 256, vcpus: 4 });
    const op = await t.as('operator');
    await t.done(await t.core.machines.create(op, createBody({ name: 'm1', memoryMib: 200, cpus: 2, start: false })));
    await expect(t.core.machines.create(op, createBody({ name: 'm2', memoryMib: 100, start: false }))).rejects.toThrow(
      /Limit reached: memory\. This would make 300 MiB of 256 MiB allowed/,
    );
    await expect(t.core.machines.create(op, createBody({ name: 'm2', memoryMib: 16, cpus: 3, start: false }))).rejects.toMatchObject({ limit: 'vcpus' });
    const l = await t.core.limits.setOverrides(op.user.id, { memoryMib: null, diskGib: 3 });
    expect(l.limits).toEqual({ machines: null, vcpus: 4, memoryMib: null, diskGib: 3 });
    await expect(t.core.machines.create(op, createBody({ name: 'm2', memoryMib: 1024, diskGib: 2, start: false }))).rejects.toMatchObject({
      limit: 'diskGib',
    });
    await t.done(await t.core.machines.create(op, createBody({ name: 'm2', memoryMib: 1024, diskGib: 1, start: false })));
    expect((await t.core.limits.of(op.user.id)).usage).toMatchObject({ machines: 2, memoryMib: 1224, diskGib: 3 });
  });

  it('forks count: a fork of several is refused whole when it would pass the limit; racing forks make at most the limit', async () => {
    const op = await t.as('operator');
    await t.done(await t.core.machines.create(op, createBody({ name: 'src' })));
    const snap = (await t.done(await t.core.snapshots.checkpoint(op, 'src', 'base'))).result as { snapshot: string };
    await setRoleLimits({ machines: 5 });
    await expect(t.core.snapshots.fork(op, snap.snapshot, { count: 5 })).rejects.toMatchObject({ limit: 'machines' });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => t.core.snapshots.fork(op, snap.snapshot, { names: [`f-${i}`] })));
    const jobs = results.filter((r) => r.status === 'fulfilled');
    expect(jobs).toHaveLength(4);
    for (const r of jobs) await t.done((r as PromiseFulfilledResult<Awaited<ReturnType<typeof t.core.snapshots.fork>>>).value);
    expect((await t.core.limits.of(op.user.id)).usage.machines).toBe(5);
    await expect(t.core.snapshots.forkNow(op, 'src', { count: 1 })).rejects.toMatchObject({ limit: 'machines' });
  });
});
