import { ConflictError } from './errors';

interface Entry {
  what: string;
  jobId?: string;
  done?: Promise<unknown>;
}

/** One operation per machine at a time, with its job, so a destroy can cancel it and wait for it. */
export class MachineLocks {
  private readonly busy = new Map<string, Entry>();

  get(id: string): Entry | undefined {
    return this.busy.get(id);
  }

  has(id: string): boolean {
    return this.busy.has(id);
  }

  assertFree(id: string): void {
    const current = this.busy.get(id);
    if (current) throw new ConflictError(`The machine is busy (${current.what}); try again when that finishes.`);
  }

  /** Hold a machine for an operation (a job, or a run's command); `unlock` releases it. */
  lock(id: string, what: string): void {
    this.assertFree(id);
    this.busy.set(id, { what });
  }

  /** A destroy takes the machine over whatever holds it; returns what did. */
  takeForDestroy(id: string): Entry | undefined {
    const current = this.busy.get(id);
    if (current?.what === 'destroying') throw new ConflictError('The machine is being destroyed already.');
    this.busy.set(id, { what: 'destroying' });
    return current;
  }

  track(id: string, jobId: string, done: Promise<unknown>): void {
    const entry = this.busy.get(id);
    if (entry && entry.what !== 'destroying') Object.assign(entry, { jobId, done });
  }

  /** Release, unless a destroy has taken the machine over meanwhile. */
  unlock(id: string, destroying = false): void {
    if (destroying || this.busy.get(id)?.what !== 'destroying') this.busy.delete(id);
  }
}
