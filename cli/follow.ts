import { isFinished, type Job } from '@/lib/contracts/jobs';
import type { ApiClient } from '@/lib/api-client';
import { formatDuration } from '@/lib/format';
import { CliError } from './output';

/**
 * Follow a job to its end, printing its progress and log lines to stderr; fails when the job does.
 * The progress shown is the job's own (a build's covers its creates, checkpoints and forks); the
 * jobs it starts are told in one line each as they begin and end, under it.
 */
export async function followJob(api: Pick<ApiClient, 'jobs'>, job: Job, quiet = false): Promise<Job> {
  let after = -1;
  let last = '';
  const told = new Map<string, Job['state']>();
  for (;;) {
    const [current, logs, kids] = await Promise.all([
      api.jobs.get(job.id),
      api.jobs.logs(job.id, after),
      quiet ? null : api.jobs.list({ parent: job.id, limit: 100 }).catch(() => null),
    ]);
    for (const l of logs.items) {
      after = l.seq;
      if (!quiet) process.stderr.write(`  ${l.line}\n`);
    }
    for (const k of [...(kids?.items ?? [])].reverse()) {
      const before = told.get(k.id);
      if (before === k.state || (before && !isFinished(k.state))) continue;
      told.set(k.id, k.state);
      if (!isFinished(k.state)) process.stderr.write(`  ↳ ${k.title}…\n`);
      else {
        const took = k.startedAt && k.finishedAt ? ` (${formatDuration(k.finishedAt - k.startedAt)})` : '';
        process.stderr.write(`  ↳ ${k.title}: ${k.state === 'succeeded' ? 'done' : (k.error ?? k.state)}${took}\n`);
      }
    }
    const status = `[${String(current.progress).padStart(3)}%] ${current.message}`;
    if (!quiet && status !== last) process.stderr.write(`${status}\n`);
    last = status;
    if (isFinished(current.state)) {
      if (current.state !== 'succeeded') throw new CliError(`${current.title}: ${current.error ?? current.state}`);
      return current;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
