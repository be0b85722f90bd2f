import { isFinished, type Job } from '@/lib/contracts/jobs';
import type { EventBus } from './events';

/** Jobs remembered as finished, so a job published again in its final state is told once (bounded: oldest forgotten first). */
const REMEMBERED = 2000;

/** Call `fn` once per job that reaches a final state (succeeded, failed, cancelled). */
export function onJobFinished(bus: EventBus, fn: (job: Job) => void): () => void {
  const told = new Set<string>();
  return bus.subscribe('job:update', (job) => {
    if (!isFinished(job.state) || told.has(job.id)) return;
    told.add(job.id);
    if (told.size > REMEMBERED) told.delete(told.values().next().value as string);
    fn(job);
  });
}
