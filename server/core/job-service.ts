import type { DemoJobBody, Job, JobLogLine } from '@/lib/contracts/jobs';
import { hasRole } from '@/lib/roles';
import type { JobListQuery } from '@/db/repo/jobs';
import type { Principal } from './auth';
import { NotFoundError } from './errors';
import type { JobRunner } from './jobs';

/** Jobs as callers see them: admins see every job, others their own; the rest is "not found". */
export class JobService {
  constructor(private readonly runner: JobRunner) {}

  private canSee(p: Principal, job: Job): boolean {
    return hasRole(p.role, 'admin') || job.ownerId === p.user.id;
  }

  list(p: Principal, q: Omit<JobListQuery, 'ownerId'>): Promise<Job[]> {
    return this.runner.list({ ...q, ownerId: hasRole(p.role, 'admin') ? undefined : p.user.id });
  }

  async get(p: Principal, id: string): Promise<Job> {
    const job = await this.runner.get(id);
    if (!job || !this.canSee(p, job)) throw new NotFoundError('Job');
    return job;
  }

  async logs(p: Principal, id: string, after: number): Promise<JobLogLine[]> {
    await this.get(p, id);
    return this.runner.logs(id, after);
  }

  async cancel(p: Principal, id: string): Promise<Job> {
    await this.get(p, id);
    return this.runner.cancel(id);
  }

  /**
   * A job that only sleeps and reports: exercises progress, logs, cancel and events end to end.
   * With `children`, it starts that many demo jobs one after another and waits for each, as a build
   * does with its creates and checkpoints: they are its children.
   */
  async startDemo(p: Principal, body: DemoJobBody, title = `Demo job (${body.seconds} s)`): Promise<Job> {
    const { job } = await this.runner.start({ kind: 'demo', title, ownerId: p.user.id }, async (ctx) => {
      const n = body.children ?? 0;
      if (n > 0) {
        for (let i = 1; i <= n; i++) {
          ctx.progress(((i - 1) / n) * 100, `Sub-job ${i} of ${n}`);
          const child = { ...body, seconds: body.seconds / n, children: 0, fail: body.fail && i === n };
          await this.runner.waitFor(await this.startDemo(p, child, `Demo sub-job ${i}/${n}`), ctx);
          ctx.log(`sub-job ${i}/${n} done`);
        }
        return { children: n };
      }
      const stepMs = (body.seconds * 1000) / body.steps;
      for (let i = 1; i <= body.steps; i++) {
        await sleep(stepMs, ctx.signal);
        ctx.log(`step ${i}/${body.steps} done`);
        if (body.fail && i === Math.ceil(body.steps / 2)) throw new Error(`demo failure at step ${i}, as asked`);
        ctx.progress((i / body.steps) * 100, `Step ${i} of ${body.steps}`);
      }
      return { steps: body.steps };
    });
    return job;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
