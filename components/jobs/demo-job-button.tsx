'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

export function DemoJobButton() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const start = useMutation({
    mutationFn: () => api.jobs.demo({ seconds: 8, steps: 16 }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.jobs() }),
    onError: (err) => toast('error', err.message),
  });
  if (!me || !hasRole(me.role, 'operator')) return null;
  return (
    <button
      type="button"
      onClick={() => start.mutate()}
      disabled={start.isPending}
      className={`rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-zinc-50
        disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800`}
    >
      Run demo job
    </button>
  );
}
