'use client';

import { useMutation } from '@tanstack/react-query';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** "Fork here": a new machine from a marker's snapshot, through the fork job; the machine itself goes on. */
export function ForkHereButton({ snapshotId, label }: { snapshotId: string; label: string }) {
  const toast = useToast();
  const fork = useMutation({
    mutationFn: () => api.snapshots.fork(snapshotId, { count: 1 }),
    onSuccess: (job) => toast('info', `${job.title}: started`),
    onError: (err) => toast('error', err.message),
  });
  return (
    <button
      type="button"
      disabled={fork.isPending}
      onClick={() => fork.mutate()}
      title={`A new machine carrying on from "${label}"`}
      className="rounded px-2 py-0.5 text-xs font-medium text-zinc-700 hover:bg-zinc-100 disabled:opacity-50 dark:text-zinc-300 dark:hover:bg-zinc-800"
    >
      Fork here
    </button>
  );
}
