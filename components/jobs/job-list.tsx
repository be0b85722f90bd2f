'use client';

import { useQuery } from '@tanstack/react-query';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { EmptyState } from '@/components/ui/empty-state';
import { JobRow } from '@/components/jobs/job-row';
import { jobTree } from '@/components/jobs/job-tree';

export function JobList() {
  const jobs = useQuery(queries(api).jobs());
  if (jobs.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading jobs…</p>;
  if (jobs.error) return <p className="text-sm text-red-600">Could not load jobs: {jobs.error.message}</p>;
  if (jobs.data.length === 0) {
    return (
      <EmptyState icon="jobs" title="No jobs yet">
        <p>Image builds, boots, checkpoints and forks appear here while they run, with a progress bar and their log.</p>
        <p>Press “Run demo job” to see one now.</p>
      </EmptyState>
    );
  }
  return (
    <ul
      className={`divide-y divide-zinc-100 overflow-hidden rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800
      dark:border-zinc-800 dark:bg-zinc-900/40`}
    >
      {jobTree(jobs.data).map((n) => (
        <JobRow key={n.job.id} job={n.job} subJobs={n.children} />
      ))}
    </ul>
  );
}
