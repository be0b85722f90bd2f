'use client';

import { useMutation } from '@tanstack/react-query';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** "Restore here": the machine goes back to a marker's snapshot through the restore job (its current state checkpointed first). */
export function RestoreHereButton({ machineId, snapshotId, label }: { machineId: string; snapshotId: string; label: string }) {
  const toast = useToast();
  const restore = useMutation({
    mutationFn: () => api.snapshots.restore(snapshotId, { machine: machineId }),
    onSuccess: (job) => toast('info', `${job.title}: started (the current state is checkpointed first)`),
    onError: (err) => toast('error', err.message),
  });
  return (
    <button
      type="button"
      disabled={restore.isPending}
      onClick={() => restore.mutate()}
      title={`Put the machine back to "${label}" (its current state is checkpointed first)`}
      className="rounded px-2 py-0.5 text-xs font-medium text-sky-700 hover:bg-sky-50 disabled:opacity-50 dark:text-sky-300 dark:hover:bg-sky-950"
    >
      Restore here
    </button>
  );
}
