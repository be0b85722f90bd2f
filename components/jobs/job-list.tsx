'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { EmptyState } from '@/components/ui/empty-state';
import { JobRow } from '@/components/jobs/job-row';
import { jobTree } from '@/components/jobs/job-tree';

/** Jobs, newest first, a page at a time: the first page is kept live by the events socket, older ones load on request. */
export function JobList() {
  const jobs = useInfiniteQuery(queries(api).jobPages());
  if (jobs.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading jobs…</p>;
  if (jobs.error) return <p className="text-sm text-red-600">Could not load jobs: {jobs.error.message}</p>;
  // A job that changed after its page loaded may sit on two pages: the first one shown wins.
  // Nested over every loaded page: a child (always newer) whose parent is on an older page not
  // loaded yet stands at the top, and goes under its parent once "Older jobs" brings it in.
  const seen = new Set<string>();
  const all = jobs.data.pages.flatMap((p) => p.items).filter((j) => !seen.has(j.id) && !!seen.add(j.id));
  if (all.length === 0) {
    return (
      <EmptyState icon="jobs" title="No jobs yet">
        <p>Image builds, boots, checkpoints and forks appear here while they run, with a progress bar and their log.</p>
        <p>Press “Run demo job” to see one now.</p>
      </EmptyState>
    );
  }
  return (
    <div className="space-y-3">
      <ul
        className={`divide-y divide-zinc-100 overflow-hidden rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800
        dark:border-zinc-800 dark:bg-zinc-900/40`}
      >
        {jobTree(all).map((n) => (
          <JobRow key={n.job.id} job={n.job} subJobs={n.children} />
        ))}
      </ul>
      {jobs.hasNextPage && (
        <button
          type="button"
          onClick={() => void jobs.fetchNextPage()}
          disabled={jobs.isFetchingNextPage}
          className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          {jobs.isFetchingNextPage ? 'Loading…' : 'Older jobs'}
        </button>
      )}
    </div>
  );
}
