'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import type { Job } from '@/lib/contracts/jobs';
import { hasRole } from '@/lib/roles';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

export function CancelJobButton({ job }: { job: Job }) {
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const cancel = useMutation({ mutationFn: () => api.jobs.cancel(job.id), onError: (err) => toast('error', err.message) });
  if (!me || !hasRole(me.role, 'operator')) return null;
  return (
    <button
      type="button"
      onClick={() => cancel.mutate()}
      disabled={cancel.isPending}
      className="rounded-md px-2 py-1 text-xs font-medium text-red-600 hover:bg-red-50 disabled:opacity-50 dark:text-red-400 dark:hover:bg-red-950/40"
    >
      Cancel
    </button>
  );
}
