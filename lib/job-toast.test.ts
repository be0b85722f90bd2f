import { describe, expect, it } from 'vitest';
import type { Job } from './contracts/jobs';
import { jobToast } from './job-toast';

const job = (over: Partial<Job>): Job =>
  ({ id: 'job_a', kind: 'machine.start', title: 'Start web', state: 'failed', error: 'boom', ownerId: 'usr_me', parentId: null, ...over }) as Job;

describe('jobToast', () => {
  it('tells the end of a job of yours this page saw running, once', () => {
    expect(jobToast(job({ state: 'succeeded' }), 'running', 'usr_me')).toEqual({ kind: 'success', text: 'Start web: done' });
    expect(jobToast(job({}), 'running', 'usr_me')).toEqual({ kind: 'error', text: 'Start web: boom' });
    expect(jobToast(job({}), 'failed', 'usr_me')).toBeNull();
    expect(jobToast(job({}), undefined, 'usr_me')).toBeNull();
  });

  it("tells a failed scheduled run or backup of yours even when the page never saw it start; not others' or a child's", () => {
    const sched = job({ kind: 'schedule.run', title: 'Undo point of web', error: 'checkpoint failed on web (disk full)' });
    expect(jobToast(sched, undefined, 'usr_me')).toEqual({ kind: 'error', text: 'Undo point of web: checkpoint failed on web (disk full)' });
    expect(jobToast(job({ kind: 'backup.create' }), undefined, 'usr_me')?.kind).toBe('error');
    expect(jobToast(sched, undefined, 'usr_other')).toBeNull();
    expect(jobToast({ ...sched, parentId: 'job_p' }, undefined, 'usr_me')).toBeNull();
    expect(jobToast({ ...sched, state: 'succeeded' }, undefined, 'usr_me')).toBeNull();
    expect(jobToast({ ...sched, state: 'running' }, undefined, 'usr_me')).toBeNull();
  });
});
