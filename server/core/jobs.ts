import { AsyncLocalStorage } from 'node:async_hooks';
import type { Job, JobLogLine } from '@/lib/contracts/jobs';
import { isFinished } from '@/lib/contracts/jobs';
import type { Store } from '@/db/client';
import { appendJobLogs, failUnfinishedJobs, getJob, getJobLogs, insertJob, listJobs, updateJob, type JobListQuery, type JobPatch } from '@/db/repo/jobs';
import type { EventBus } from './events';
import { newId } from './ids';
import { ConflictError, NotFoundError } from './errors';

export interface JobContext {
  readonly jobId: string;
  /** Aborted when the job is cancelled or the server shuts down. */
  readonly signal: AbortSignal;
  /** 0-100; values only go up. */
  progress(percent: number, message?: string): void;
  log(line: string): void;
}

export type JobFn = (ctx: JobContext) => Promise<unknown>;

export interface JobSpec {
  kind: string;
  title: string;
  ownerId: string | null;
  machineId?: string | null;
  /** The job that started this one; by default the job whose code is running (see JobRunner). */
  parentId?: string | null;
}

export class JobCancelledError extends Error {
  constructor() {
    super('Cancelled.');
  }
}

interface Running {
  job: Job;
  abort: AbortController;
  logs: JobLogLine[];
  seq: number;
  /** Writes for one job are applied in order. */
  chain: Promise<unknown>;
  flushTimer: NodeJS.Timeout | null;
  /** Settles when the job has finished and its state is written. */
  done?: Promise<Job>;
  /** Holds one of the `concurrency` slots now (given back while it waits for a job it started). */
  slot: boolean;
}

const LOG_FLUSH_MS = 100;
const MAX_LINE = 4000;

/**
 * Runs long operations: persists each job and its log, publishes `job:update` and
 * `job:log` on the bus, and honours cancel through an AbortSignal. At most
 * `concurrency` jobs run at once; the rest wait as `queued`.
 *
 * A job started while another job's code runs is that job's child (a build's create, checkpoints
 * and forks; a step's reboot): each job's function runs inside an AsyncLocalStorage scope holding
 * its id, so `start` knows the parent without every service passing a context down (the services
 * that start jobs stay as they are, and a new one gets it right without thinking of it). Only a
 * parent still running counts: a callback that outlives its job (a process exit handler set up
 * during a create) starts top-level jobs. Cancelling a job cancels its running children.
 */
export class JobRunner {
  private readonly running = new Map<string, Running>();
  /** The id of the job whose function is running in this async context. */
  private readonly scope = new AsyncLocalStorage<string>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  /** In a cluster: this node (its jobs carry its id, and recover() touches only them). Null on one node. */
  node: { id: string; founder: boolean } | null = null;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly concurrency = 4,
    private readonly now: () => number = Date.now,
  ) {}

  /** On start-up: jobs that were running when the server stopped cannot finish. */
  async recover(): Promise<number> {
    return failUnfinishedJobs(this.store, 'The server stopped while this job ran.', this.now(), this.node ?? undefined);
  }

  /** Returns at once with the queued job; `done` settles when it finishes. */
  async start(spec: JobSpec, fn: JobFn): Promise<{ job: Job; done: Promise<Job> }> {
    const job: Job = {
      id: newId('job'),
      kind: spec.kind,
      title: spec.title,
      state: 'queued',
      progress: 0,
      message: 'Queued',
      error: null,
      result: null,
      ownerId: spec.ownerId,
      machineId: spec.machineId ?? null,
      parentId: spec.parentId !== undefined ? spec.parentId : this.current(),
      createdAt: this.now(),
      startedAt: null,
      finishedAt: null,
    };
    await insertJob(this.store, job, this.node?.id ?? null);
    const r: Running = { job, abort: new AbortController(), logs: [], seq: 0, chain: Promise.resolve(), flushTimer: null, slot: false };
    this.running.set(job.id, r);
    this.bus.publish('job:update', job);
    const done = this.run(r, fn);
    r.done = done;
    return { job, done };
  }

  /** The running job whose code called this, if any. */
  current(): string | null {
    const id = this.scope.getStore();
    const r = id ? this.running.get(id) : undefined;
    return r && !isFinished(r.job.state) ? r.job.id : null;
  }

  get(id: string): Promise<Job | undefined> {
    const r = this.running.get(id);
    return r ? Promise.resolve(r.job) : getJob(this.store, id);
  }

  /**
   * Wait for another job (a create, a checkpoint, a fork) started by this one; its result, or
   * its error thrown. `signal`: the waiting job's, so cancelling it stops the wait.
   */
  async waitFor(job: Job, waiter: Pick<JobContext, 'jobId' | 'signal'>): Promise<Job> {
    const { signal } = waiter;
    const r = this.running.get(job.id);
    if (r?.done) {
      // The waiter gives its slot back meanwhile: builds waiting on the forks and checkpoints they
      // started would otherwise fill every slot and wait for each other for ever.
      const w = this.running.get(waiter.jobId);
      const lent = !!w?.slot;
      if (lent) {
        w!.slot = false;
        this.release();
      }
      try {
        // Woken by the job's end, not by polling: a cache hit waits on a fork job, and 50 ms polls were a tenth of it.
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          void r.done!.finally(() => (signal.removeEventListener('abort', onAbort), resolve()));
        });
      } finally {
        if (lent) {
          await this.acquire(w!.abort.signal);
          w!.slot = true;
        }
      }
    }
    const j = r?.done ? r.job : await this.get(job.id);
    if (!j || !isFinished(j.state)) throw new Error(`${job.title}: not finished (the server stopped while it ran?)`);
    if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error ?? j.state}`);
    return j;
  }

  /** Owner of a job that is running now (log events are only published while running). */
  ownerOf(id: string): string | null {
    return this.running.get(id)?.job.ownerId ?? null;
  }

  list(q: JobListQuery): Promise<Job[]> {
    return listJobs(this.store, q);
  }

  async logs(id: string, after: number): Promise<JobLogLine[]> {
    const r = this.running.get(id);
    if (r) await this.flush(r);
    return getJobLogs(this.store, id, after);
  }

  async cancel(id: string): Promise<Job> {
    const r = this.running.get(id);
    if (!r) {
      const job = await getJob(this.store, id);
      if (!job) throw new NotFoundError('Job');
      throw new ConflictError(`Job already ${job.state}.`);
    }
    r.abort.abort(new JobCancelledError());
    // What it started goes with it: a cancelled build does not go on creating and checkpointing.
    for (const c of [...this.running.values()]) if (c.job.parentId === id && !c.abort.signal.aborted) void this.cancel(c.job.id).catch(() => undefined);
    return r.job;
  }

  /** Cancel everything and wait for the writes: used on shutdown. */
  async stopAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.abort.abort(new JobCancelledError());
    await Promise.allSettled(all.map((r) => r.chain));
  }

  private async acquire(signal: AbortSignal): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(go);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  private async run(r: Running, fn: JobFn): Promise<Job> {
    try {
      await this.acquire(r.abort.signal);
      r.slot = true;
      this.patch(r, { state: 'running', startedAt: this.now(), message: 'Running' });
      const result = await this.scope.run(r.job.id, () => fn(this.context(r)));
      r.abort.signal.throwIfAborted();
      this.patch(r, { state: 'succeeded', progress: 100, message: 'Done', finishedAt: this.now(), result: result ?? null });
    } catch (err) {
      const cancelled = r.abort.signal.aborted;
      const message = cancelled ? 'Cancelled.' : err instanceof Error ? err.message : String(err);
      if (!cancelled) this.log(r, `error: ${message}`);
      this.patch(r, { state: cancelled ? 'cancelled' : 'failed', error: message, message: cancelled ? 'Cancelled' : 'Failed', finishedAt: this.now() });
    } finally {
      if (r.slot) this.release();
      r.slot = false;
      await this.flush(r);
      this.running.delete(r.job.id);
    }
    return r.job;
  }

  private context(r: Running): JobContext {
    return {
      jobId: r.job.id,
      signal: r.abort.signal,
      progress: (percent, message) => {
        const p = Math.max(r.job.progress, Math.min(100, Math.round(percent)));
        if (p === r.job.progress && (message === undefined || message === r.job.message)) return;
        this.patch(r, { progress: p, ...(message !== undefined ? { message } : {}) });
      },
      log: (line) => this.log(r, line),
    };
  }

  private log(r: Running, line: string): void {
    if (isFinished(r.job.state)) return;
    for (const l of line.split('\n')) {
      r.logs.push({ seq: r.seq++, ts: this.now(), line: l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l });
    }
    r.flushTimer ??= setTimeout(() => void this.flush(r), LOG_FLUSH_MS);
  }

  private flush(r: Running): Promise<unknown> {
    if (r.flushTimer) clearTimeout(r.flushTimer);
    r.flushTimer = null;
    const lines = r.logs.splice(0);
    if (lines.length === 0) return r.chain;
    this.bus.publish('job:log', { jobId: r.job.id, lines });
    return this.enqueue(r, () => appendJobLogs(this.store, r.job.id, lines));
  }

  /** Progress is whole percent and only rises, so a job writes at most ~100 progress rows. */
  private patch(r: Running, patch: JobPatch): void {
    r.job = { ...r.job, ...patch };
    this.bus.publish('job:update', r.job);
    void this.enqueue(r, () => updateJob(this.store, r.job.id, patch));
  }

  private enqueue(r: Running, write: () => Promise<unknown>): Promise<unknown> {
    r.chain = r.chain.then(write).catch((err) => console.error(`job ${r.job.id}: could not persist:`, err));
    return r.chain;
  }
}
