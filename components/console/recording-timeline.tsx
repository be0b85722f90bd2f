'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo, useRef } from 'react';
import { createApiClient } from '@/lib/api-client';
import type { Recording } from '@/lib/contracts/recordings';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { RecordingPlayer, type PlayerControl } from './recording-player';
import { RestoreHereButton } from './restore-here-button';
import { ForkHereButton } from './fork-here-button';

const KIND_STYLE: Record<string, string> = {
  checkpoint: 'bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300',
  restore: 'bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300',
  fork: 'bg-violet-100 text-violet-800 dark:bg-violet-950 dark:text-violet-300',
};

const OTHER_STYLE = 'bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300';

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/**
 * A recording with its timeline: the player (markers on its scrubber) and, beside it, the
 * machine's checkpoints, restores and forks while it was written. A marker jumps the player
 * there; a checkpoint's marker restores the machine to it, or forks it, in one click (operators).
 */
export function RecordingTimeline({
  machineId,
  recording,
  canRestore,
  share,
}: {
  machineId: string;
  recording: Recording;
  canRestore: boolean;
  /** A recording link's token: the cast and markers are read with it (its own routes), and nothing can be restored. */
  share?: string;
}) {
  const control = useRef<PlayerControl | null>(null);
  const shared = useMemo(() => (share ? createApiClient({ baseUrl: '', share }) : null), [share]);
  const mine = queries(api).recordingMarkers(machineId, recording.id);
  const markers = useQuery({
    queryKey: shared ? ['recording-share', share ?? '', 'markers'] : mine.queryKey,
    queryFn: shared ? () => shared.shares.recordingMarkers() : mine.queryFn,
    refetchInterval: recording.active ? 5000 : false,
  });
  const items = markers.data?.items ?? [];
  const restorable = canRestore && !shared;
  return (
    <div className="mt-2 grid gap-3 lg:grid-cols-[minmax(0,1fr)_18rem]">
      <RecordingPlayer url={shared ? shared.shares.recordingCastUrl() : api.machines.recordingUrl(machineId, recording.id)} share={share} control={control} />
      <div className="min-w-0 rounded-lg border border-zinc-200 p-2 dark:border-zinc-800">
        <h4 className="px-1 pb-1 text-xs font-semibold uppercase tracking-wide text-zinc-500 dark:text-zinc-400">Timeline</h4>
        {markers.isError ? (
          <p className="px-1 text-xs text-red-600">{markers.error.message}</p>
        ) : items.length === 0 ? (
          <p className="px-1 text-xs text-zinc-500 dark:text-zinc-400">
            {markers.isPending ? 'Loading…' : 'No checkpoints, restores or forks while this was recorded.'}
          </p>
        ) : (
          <ol className="space-y-1 text-sm" aria-label="Recording markers">
            {items.map((m, i) => (
              <li key={`${i}-${m.t}`} className="rounded px-1 py-1 hover:bg-zinc-50 dark:hover:bg-zinc-900" data-testid="recording-marker" data-kind={m.kind}>
                <button
                  type="button"
                  onClick={() => control.current?.seekMarker(i)}
                  className="flex w-full min-w-0 items-center gap-2 text-left"
                  title="Jump here"
                >
                  <span className="shrink-0 tabular-nums text-xs text-zinc-500 dark:text-zinc-400">{clock(m.t)}</span>
                  <span className={`shrink-0 rounded px-1.5 py-0.5 text-xs ${KIND_STYLE[m.kind] ?? OTHER_STYLE}`}>{m.kind}</span>
                  <span className="truncate" title={m.label}>
                    {m.label}
                  </span>
                </button>
                {restorable && m.kind === 'checkpoint' && m.snapshotId && (
                  <div className="mt-0.5 flex gap-1 pl-10">
                    <RestoreHereButton machineId={machineId} snapshotId={m.snapshotId} label={m.label} />
                    <ForkHereButton snapshotId={m.snapshotId} label={m.label} />
                  </div>
                )}
              </li>
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}
