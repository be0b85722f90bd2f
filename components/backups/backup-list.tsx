'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatAge, formatBytes } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';

/** What one target holds, newest first: restore one into a new machine, or delete it (its layers go when nothing else uses them). */
export function BackupList({ target }: { target: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const list = useQuery(queries(api).backups(target));
  const [names, setNames] = useState<Record<string, string>>({});
  const restore = useMutation({
    mutationFn: (v: { id: string; name: string }) => api.backups.restore(target, v.id, v.name),
    onSuccess: (job) => toast('info', `${job.title}: started`),
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.backups.remove(target, id),
    onSuccess: (r) => (toast('success', `Backup deleted (${r.removedObjects} objects freed)`), void qc.invalidateQueries({ queryKey: keys.backups(target) })),
    onError: (err) => toast('error', err.message),
  });
  if (list.isPending) return <p className="py-2 text-xs text-zinc-500">Reading the target…</p>;
  if (list.error) return <p className="py-2 text-xs text-red-600">{list.error.message}</p>;
  if (!list.data.length) return <p className="py-2 text-xs text-zinc-500 dark:text-zinc-400">No backups on this target yet.</p>;
  return (
    <table className="mt-2 w-full text-left text-xs" aria-label={`Backups on ${target}`}>
      <thead className="text-zinc-500 dark:text-zinc-400">
        <tr>
          <th className="py-1 font-normal">Machine</th>
          <th className="py-1 font-normal">Snapshot</th>
          <th className="py-1 font-normal">Made</th>
          <th className="py-1 font-normal">Size (stored)</th>
          <th className="py-1 font-normal">Restore as</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {list.data.map((b) => {
          const name = names[b.id] ?? `${b.machineName ?? 'restored'}-copy`.slice(0, 63);
          return (
            <tr key={b.id} data-testid="backup-row" data-label={b.snapshotLabel}>
              <td className="py-1.5">{b.machineName ?? '-'}</td>
              <td className="py-1.5">
                {b.snapshotLabel} <span className="text-zinc-400">({b.kind})</span>
              </td>
              <td className="py-1.5" title={new Date(b.createdAt).toISOString()}>
                {formatAge(b.createdAt)}
              </td>
              <td className="py-1.5">
                {formatBytes(b.sizeBytes)} ({formatBytes(b.storedBytes)})
              </td>
              <td className="py-1.5">
                <span className="flex items-center gap-1.5">
                  <input
                    aria-label="New machine name"
                    value={name}
                    onChange={(e) => setNames({ ...names, [b.id]: e.target.value })}
                    className="w-36 rounded-md border border-zinc-300 bg-white px-1.5 py-1 dark:border-zinc-700 dark:bg-zinc-900"
                  />
                  <button
                    type="button"
                    disabled={restore.isPending}
                    onClick={() => restore.mutate({ id: b.id, name })}
                    className={`rounded-md border border-zinc-300 px-2 py-1 font-medium hover:bg-zinc-50 disabled:opacity-50
                      dark:border-zinc-700 dark:hover:bg-zinc-800`}
                  >
                    Restore
                  </button>
                  <button
                    type="button"
                    disabled={remove.isPending}
                    onClick={async () =>
                      (await confirm({
                        title: `Delete backup of "${b.snapshotLabel}"?`,
                        body: 'Layers and files no other backup on this target uses are deleted with it.',
                        confirmLabel: 'Delete',
                        danger: true,
                      })) && remove.mutate(b.id)
                    }
                    className="rounded-md px-2 py-1 font-medium text-red-600 hover:bg-red-50 disabled:opacity-50 dark:text-red-400 dark:hover:bg-red-950/40"
                  >
                    Delete
                  </button>
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
