import { isFinished, type Job } from '@/lib/contracts/jobs';
import type { ApiClient } from '@/lib/api-client';
import { CliError } from './output';

/** Follow a job to its end, printing progress and log lines to stderr; fails when the job does. */
export async function followJob(api: ApiClient, job: Job, quiet = false): Promise<Job> {
  let after = -1;
  let last = '';
  for (;;) {
    const [current, logs] = await Promise.all([api.jobs.get(job.id), api.jobs.logs(job.id, after)]);
    for (const l of logs.items) {
      after = l.seq;
      if (!quiet) process.stderr.write(`  ${l.line}\n`);
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
