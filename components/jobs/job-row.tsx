'use client';

import { useId, useState } from 'react';
import { isFinished, type Job } from '@/lib/contracts/jobs';
import { formatAge, formatDuration } from '@/lib/format';
import { CancelJobButton } from '@/components/jobs/cancel-job-button';
import { JobLog } from '@/components/jobs/job-log';
import { ProbeMatrixTable } from '@/components/jobs/probe-matrix';
import type { JobNode } from '@/components/jobs/job-tree';
import { ProgressBar } from '@/components/jobs/progress-bar';
import { StateBadge } from '@/components/machines/state-badge';

/**
 * One job: title, message, progress, state; its log on click. The jobs it started (its children)
 * fold under it: open while it runs, closed once it has ended, and the person can toggle them.
 */
export function JobRow({ job, subJobs = [], depth = 0 }: { job: Job; subJobs?: JobNode[]; depth?: number }) {
  const [open, setOpen] = useState(false);
  const [showKids, setShowKids] = useState(!isFinished(job.state));
  const kidsId = useId();
  const took = job.startedAt && job.finishedAt ? formatDuration(job.finishedAt - job.startedAt) : null;
  const failedKids = subJobs.filter((k) => k.job.state === 'failed').length;
  return (
    <li className={depth ? 'py-2 pr-3 pl-3' : 'px-4 py-3'} data-testid="job-row" data-job-id={job.id} data-state={job.state} data-depth={depth}>
      <div className="flex flex-wrap items-center gap-3">
        <button type="button" onClick={() => setOpen(!open)} aria-expanded={open} className="min-w-40 flex-1 text-left">
          <span className={`block truncate font-medium ${depth ? 'text-xs' : 'text-sm'}`}>{job.title}</span>
          <span className="block truncate text-xs text-zinc-500 dark:text-zinc-400">
            {job.error ?? job.message} · {formatAge(job.createdAt)}
            {took ? ` · took ${took}` : ''}
          </span>
        </button>
        {/* Progress and state wrap together under the title on a narrow screen. */}
        <div className="flex items-center gap-3">
          <div className={depth ? 'w-32' : 'w-40'}>
            <ProgressBar value={job.progress} state={job.state} label={`${job.title} progress`} />
          </div>
          {/* A fixed slot: progress bars line up whatever the state's word. */}
          <div className="flex w-20 justify-end">
            <StateBadge state={job.state} />
          </div>
          {!isFinished(job.state) && !depth && <CancelJobButton job={job} />}
        </div>
      </div>
      {subJobs.length > 0 && (
        <button
          type="button"
          onClick={() => setShowKids(!showKids)}
          aria-expanded={showKids}
          aria-controls={kidsId}
          className="mt-1 inline-flex items-center gap-1 rounded text-xs text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
        >
          <span aria-hidden className={`inline-block transition-transform ${showKids ? 'rotate-90' : ''}`}>
            ▸
          </span>
          {subJobs.length} sub-job{subJobs.length === 1 ? '' : 's'}
          {failedKids ? <span className="text-red-600 dark:text-red-400"> · {failedKids} failed</span> : null}
        </button>
      )}
      {/* A probe over several images: its matrix stays in view once it has ended. */}
      {isFinished(job.state) && <ProbeMatrixTable result={job.result} />}
      {open && <JobLog jobId={job.id} />}
      {subJobs.length > 0 && showKids && (
        <ul
          id={kidsId}
          aria-label={`Sub-jobs of ${job.title}`}
          className="mt-2 ml-1 divide-y divide-zinc-100 border-l-2 border-zinc-200 dark:divide-zinc-800 dark:border-zinc-700"
        >
          {subJobs.map((k) => (
            <JobRow key={k.job.id} job={k.job} subJobs={k.children} depth={depth + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}
