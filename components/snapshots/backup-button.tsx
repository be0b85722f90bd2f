'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** Back up one snapshot to a target (a job with progress); shown when some target exists. */
export function BackupButton({ snapshotId }: { snapshotId: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const targets = useQuery({ ...queries(api).backupTargets(), staleTime: 30_000 }).data;
  const [chosen, setChosen] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: (target: string) => api.backups.create(snapshotId, target),
    onSuccess: (job, target) => (toast('info', `${job.title}: started`), void qc.invalidateQueries({ queryKey: keys.backups(target) })),
    onError: (err) => toast('error', err.message),
  });
  if (!targets?.length) return null;
  const target = chosen ?? targets[0].id;
  return (
    <span className="flex items-center gap-1">
      {targets.length > 1 && (
        <select
          aria-label="Backup target"
          value={target}
          onChange={(e) => setChosen(e.target.value)}
          className="rounded-md border border-zinc-300 bg-white px-1 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900"
        >
          {targets.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      )}
      <button
        type="button"
        disabled={start.isPending}
        onClick={() => start.mutate(target)}
        title={`Back up to ${targets.find((t) => t.id === target)?.name}: layers already there are not sent again`}
        className={`rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50
          dark:border-zinc-700 dark:hover:bg-zinc-800`}
      >
        Back up
      </button>
    </span>
  );
}
