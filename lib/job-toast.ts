import { isFinished, type Job } from './contracts/jobs';

/** Jobs that run with nobody watching them start (a schedule's run, a backup): their failure is told to the owner whenever it comes. */
const UNWATCHED = ['schedule.run', 'backup.create'];

/**
 * The toast a page shows for a job update, or null: the end of a job of yours that this page saw
 * in another state (told once); and the failure of a scheduled run or backup of yours even when the
 * page never saw it start. Not a build's children: the build speaks for them.
 */
export function jobToast(job: Job, before: Job['state'] | undefined, meId: string | undefined): { kind: 'success' | 'error'; text: string } | null {
  if (!isFinished(job.state) || job.ownerId !== meId || job.parentId || before === job.state) return null;
  if (job.state === 'failed' && (before || UNWATCHED.includes(job.kind))) return { kind: 'error', text: `${job.title}: ${job.error ?? 'failed'}` };
  if (job.state === 'succeeded' && before) return { kind: 'success', text: `${job.title}: done` };
  return null;
}
