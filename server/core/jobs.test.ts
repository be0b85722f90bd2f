import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '@/lib/contracts/jobs';
import { openDatabase, type Store } from '@/db/client';
import { getJob, getJobLogs } from '@/db/repo/jobs';
import { EventBus } from './events';
import { JobRunner } from './jobs';

let dir: string;
let store: Store;
let bus: EventBus;
let updates: Job[];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-jobs-'));
  store = openDatabase({ sqlitePath: path.join(dir, 'db.sqlite'), migrationsDir: path.resolve('db/migrations') });
  await store.migrate();
  bus = new EventBus();
  updates = [];
  bus.subscribe('job:update', (j) => updates.push(j));
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('JobRunner', () => {
  it('persists progress, logs and the result, and publishes each change', async () => {
    const runner = new JobRunner(store, bus);
    const { job, done } = await runner.start({ kind: 't', title: 'T', ownerId: null }, async (ctx) => {
      ctx.log('one');
      ctx.progress(50, 'half');
      ctx.progress(40); // never goes down
      ctx.log('two\nthree');
      return { answer: 42 };
    });
    expect(job.state).toBe('queued');
    const final = await done;
    expect(final).toMatchObject({ state: 'succeeded', progress: 100, result: { answer: 42 } });
    expect(await getJob(store, job.id)).toMatchObject({ state: 'succeeded', progress: 100, result: { answer: 42 } });
    expect((await getJobLogs(store, job.id, -1)).map((l) => l.line)).toEqual(['one', 'two', 'three']);
    expect(updates.map((u) => u.state)).toEqual(['queued', 'running', 'running', 'succeeded']);
    expect(updates.map((u) => u.progress)).toEqual([0, 0, 50, 100]);
  });

  it('records failures with their message and keeps the log', async () => {
    const runner = new JobRunner(store, bus);
    const { job, done } = await runner.start({ kind: 't', title: 'T', ownerId: null }, async (ctx) => {
      ctx.log('about to fail');
      throw new Error('disk full');
    });
    expect(await done).toMatchObject({ state: 'failed', error: 'disk full' });
    expect((await getJobLogs(store, job.id, -1)).map((l) => l.line)).toEqual(['about to fail', 'error: disk full']);
  });

  it('cancels through the abort signal', async () => {
    const runner = new JobRunner(store, bus);
    const { job, done } = await runner.start(
      { kind: 't', title: 'T', ownerId: null },
      (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    await new Promise((r) => setTimeout(r, 10));
    await runner.cancel(job.id);
    expect(await done).toMatchObject({ state: 'cancelled' });
    await expect(runner.cancel(job.id)).rejects.toThrow(/already cancelled/);
  });

  it('queues beyond its concurrency and runs in order', async () => {
    const runner = new JobRunner(store, bus, 1);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = await runner.start({ kind: 't', title: 'A', ownerId: null }, async () => {
      order.push('a');
      await gate;
    });
    const b = await runner.start({ kind: 't', title: 'B', ownerId: null }, async () => void order.push('b'));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['a']);
    expect((await runner.get(b.job.id))?.state).toBe('queued');
    release();
    await Promise.all([a.done, b.done]);
    expect(order).toEqual(['a', 'b']);
  });

  it('cancels a queued job without running it', async () => {
    const runner = new JobRunner(store, bus, 1);
    let release!: () => void;
    const a = await runner.start({ kind: 't', title: 'A', ownerId: null }, () => new Promise<void>((r) => (release = r)));
    let ran = false;
    const b = await runner.start({ kind: 't', title: 'B', ownerId: null }, async () => void (ran = true));
    await runner.cancel(b.job.id);
    expect(await b.done).toMatchObject({ state: 'cancelled' });
    release();
    await a.done;
    expect(ran).toBe(false);
  });

  it('marks jobs left running by a previous server as failed', async () => {
    const runner = new JobRunner(store, bus);
    const { job } = await runner.start({ kind: 't', title: 'T', ownerId: null }, () => new Promise(() => undefined));
    await new Promise((r) => setTimeout(r, 20));
    const next = new JobRunner(store, new EventBus());
    expect(await next.recover()).toBe(1);
    expect(await getJob(store, job.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/server stopped/) });
  });

  it('waitFor wakes on the end of the job it waits for: its result, its error, or the waiter cancelled', async () => {
    const runner = new JobRunner(store, bus);
    let finish!: (v: unknown) => void;
    const a = await runner.start({ kind: 't', title: 'A', ownerId: null }, () => new Promise((r) => (finish = r)));
    const waiting = runner.waitFor(a.job, { jobId: 'x', signal: new AbortController().signal });
    setTimeout(() => finish({ n: 1 }), 10);
    expect(await waiting).toMatchObject({ state: 'succeeded', result: { n: 1 } });
    // Already finished: read from the store.
    expect(await runner.waitFor(a.job, { jobId: 'x', signal: new AbortController().signal })).toMatchObject({ state: 'succeeded' });
    const b = await runner.start({ kind: 't', title: 'B', ownerId: null }, async () => {
      throw new Error('boom');
    });
    await expect(runner.waitFor(b.job, { jobId: 'x', signal: new AbortController().signal })).rejects.toThrow('B: boom');
    const c = await runner.start({ kind: 't', title: 'C', ownerId: null }, () => new Promise(() => undefined));
    const ac = new AbortController();
    const w = runner.waitFor(c.job, { jobId: 'x', signal: ac.signal });
    ac.abort(new Error('waiter cancelled'));
    await expect(w).rejects.toThrow('waiter cancelled');
    await runner.cancel(c.job.id);
  });

  it('a job waiting for a job it started lends its slot, so jobs that wait on sub-jobs cannot fill every slot', async () => {
    const runner = new JobRunner(store, bus, 1);
    const parent = await runner.start({ kind: 't', title: 'P', ownerId: null }, async (ctx) => {
      const child = await runner.start({ kind: 't', title: 'C', ownerId: null }, async () => 'child ran');
      return (await runner.waitFor(child.job, ctx)).result;
    });
    expect(await parent.done).toMatchObject({ state: 'succeeded', result: 'child ran' });
    // The slot came back: another job still runs.
    const after = await runner.start({ kind: 't', title: 'A', ownerId: null }, async () => 1);
    expect(await after.done).toMatchObject({ state: 'succeeded' });
  });

  it('a job started while another job runs is its child, through awaits and timers; a callback that outlives its job starts a top-level one', async () => {
    const runner = new JobRunner(store, bus);
    let late!: () => Promise<Job>;
    const parent = await runner.start({ kind: 't', title: 'P', ownerId: null }, async (ctx) => {
      await new Promise((r) => setTimeout(r, 5));
      const a = await runner.start({ kind: 't', title: 'A', ownerId: null }, async () => {
        // A grandchild: the child's own scope.
        const g = await runner.start({ kind: 't', title: 'G', ownerId: null }, async () => 1);
        return g.job.parentId;
      });
      const b = await new Promise<Job>((resolve) =>
        setTimeout(() => void runner.start({ kind: 't', title: 'B', ownerId: null }, async () => 2).then((x) => resolve(x.job)), 5),
      );
      late = async () => (await runner.start({ kind: 't', title: 'L', ownerId: null }, async () => 3)).job;
      const done = await runner.waitFor(a.job, ctx);
      return { a: a.job.parentId, g: done.result, b: b.parentId };
    });
    expect(parent.job.parentId).toBeNull();
    const done = await parent.done;
    expect(done.result).toEqual({ a: parent.job.id, g: expect.stringMatching(/^job_/), b: parent.job.id });
    expect((await runner.list({ parentId: parent.job.id, limit: 10 })).map((j) => j.title).sort()).toEqual(['A', 'B']);
    expect(await getJob(store, (done.result as { g: string }).g)).toMatchObject({ title: 'A' });
    // Called after the parent finished (a closure it left behind): no parent.
    expect((await late()).parentId).toBeNull();
  });

  it('cancelling a job cancels the jobs it started', async () => {
    const runner = new JobRunner(store, bus);
    const hang = (ctx: { signal: AbortSignal }) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    let child!: Promise<Job>;
    const parent = await runner.start({ kind: 't', title: 'P', ownerId: null }, async (ctx) => {
      const c = await runner.start({ kind: 't', title: 'C', ownerId: null }, hang);
      child = c.done;
      return runner.waitFor(c.job, ctx);
    });
    await new Promise((r) => setTimeout(r, 20));
    await runner.cancel(parent.job.id);
    expect(await parent.done).toMatchObject({ state: 'cancelled' });
    expect(await child).toMatchObject({ state: 'cancelled' });
  });
});
