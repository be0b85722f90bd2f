'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Snapshot } from '@/lib/contracts/snapshots';
import { formatBytes } from '@/lib/format';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** Keep a live snapshot hot (QEMU processes started ahead for its forks) or not, with what its pool costs. */
export function HotToggle({ snap }: { snap: Snapshot }) {
  const qc = useQueryClient();
  const toast = useToast();
  const set = useMutation({
    mutationFn: (hot: boolean) => api.snapshots.hot(snap.id, hot),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.snapshots() }),
    onError: (err) => toast('error', err.message),
  });
  if (snap.kind !== 'live') return null;
  const p = snap.pool;
  const cost = p
    ? p.reason
      ? p.reason
      : `${p.ready} of ${p.target} ready${p.starting ? `, ${p.starting} starting` : ''}; ` +
        `${formatBytes(p.residentBytes)} resident, ${p.reservedMib} MiB reserved`
    : null;
  return (
    <span className="flex items-center gap-1">
      <button
        type="button"
        role="switch"
        aria-checked={snap.hot}
        disabled={set.isPending}
        onClick={() => set.mutate(!snap.hot)}
        title={
          snap.hot
            ? 'Hot: processes wait for its forks (a fork only loads the device state). Click to stop keeping them.'
            : 'Keep processes started ahead for its forks (Settings: hotStandbys per snapshot), each counted as a machine of its size'
        }
        className={`rounded-md border px-2 py-1 text-xs font-medium disabled:opacity-50 ${
          snap.hot
            ? 'border-orange-400 bg-orange-50 text-orange-800 dark:border-orange-600 dark:bg-orange-950 dark:text-orange-200'
            : 'border-zinc-300 hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800'
        }`}
      >
        {snap.hot ? 'Hot' : 'Keep hot'}
      </button>
      {cost && (
        <span className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="hot-pool">
          {p?.byForkLink && !snap.hot ? 'hot (fork link): ' : ''}
          {cost}
        </span>
      )}
    </span>
  );
}
