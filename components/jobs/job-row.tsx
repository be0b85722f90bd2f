'use client';

import { useState } from 'react';
import { isFinished, type Job } from '@/lib/contracts/jobs';
import { formatAge, formatDuration } from '@/lib/format';
import { CancelJobButton } from '@/components/jobs/cancel-job-button';
import { JobLog } from '@/components/jobs/job-log';
import { ProgressBar } from '@/components/jobs/progress-bar';
import { StateBadge } from '@/components/machines/state-badge';

export function JobRow({ job }: { job: Job }) {
  const [open, setOpen] = useState(false);
  const took = job.startedAt && job.finishedAt ? formatDuration(job.finishedAt - job.startedAt) : null;
  return (
    <li className="px-4 py-3" data-testid="job-row" data-job-id={job.id} data-state={job.state}>
      <div className="flex flex-wrap items-center gap-3">
        <button type="button" onClick={() => setOpen(!open)} aria-expanded={open} className="min-w-0 flex-1 text-left">
          <span className="block truncate text-sm font-medium">{job.title}</span>
          <span className="block truncate text-xs text-zinc-500 dark:text-zinc-400">
            {job.error ?? job.message} · {formatAge(job.createdAt)}
            {took ? ` · took ${took}` : ''}
          </span>
        </button>
        <div className="w-40">
          <ProgressBar value={job.progress} state={job.state} label={`${job.title} progress`} />
        </div>
        <StateBadge state={job.state} />
        {!isFinished(job.state) && <CancelJobButton job={job} />}
      </div>
      {open && <JobLog jobId={job.id} />}
    </li>
  );
}
