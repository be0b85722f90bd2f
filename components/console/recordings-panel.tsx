'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { formatAge, formatBytes, formatDuration } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { hasRole } from '@/lib/roles';
import { RecordingTimeline } from '@/components/console/recording-timeline';
import { RecordingShareForm } from '@/components/console/recording-share-form';
import { RecordingLinks } from '@/components/console/recording-links';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';

/** A machine's console recordings: the setting, the list, a player with a scrubber, download and delete. */
export function RecordingsPanel({ machine, canChange }: { machine: Machine; canChange: boolean }) {
  const confirm = useConfirm();
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery(queries(api).recordings(machine.id));
  // Restore and fork are operators' (the snapshot routes' own rule), whatever the grant here.
  const me = useQuery(queries(api).me()).data;
  const canRestore = !!me && hasRole(me.role, 'operator');
  const [playing, setPlaying] = useState<string | null>(null);
  const [sharing, setSharing] = useState<string | null>(null);
  // A recording grows while its session is open: look again now and then.
  const anyActive = !!list.data?.items.some((r) => r.active);
  // A start opens a session (maybe recorded), a stop ends one: look again.
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: keys.recordings(machine.id) });
  }, [machine.state, qc, machine.id]);
  useEffect(() => {
    if (!anyActive) return;
    const t = setInterval(() => void qc.invalidateQueries({ queryKey: keys.recordings(machine.id) }), 5000);
    return () => clearInterval(t);
  }, [anyActive, qc, machine.id]);
  // What was clicked, shown until the change is saved or refused. Set in the click's own handler: a mutation's
  // pending state reaches the page a task later, and a controlled checkbox snaps back in between (CI: check() saw no change).
  const [wanted, setWanted] = useState<boolean | null>(null);
  const toggle = useMutation({
    mutationFn: (on: boolean) => api.machines.update(machine.id, { recordConsole: on }),
    onSettled: () => setWanted(null),
    onSuccess: (m) => {
      qc.setQueryData(keys.machine(machine.id), m);
      qc.setQueryData(keys.machine(machine.name), m);
      toast('success', m.recordConsole ? 'Console sessions are recorded from their next start.' : 'Recording turned off for new sessions.');
    },
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.machines.deleteRecording(machine.id, id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.recordings(machine.id) }),
    onError: (err) => toast('error', err.message),
  });
  const items = list.data?.items ?? [];
  return (
    <Section
      title="Recordings"
      description="Console sessions saved as asciicast files: replay them with a scrubber marking checkpoints, restores and forks, or download them."
      actions={
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            className="h-4 w-4"
            checked={wanted ?? machine.recordConsole}
            disabled={!canChange || toggle.isPending}
            onChange={(e) => {
              setWanted(e.target.checked);
              toggle.mutate(e.target.checked);
            }}
          />
          Record console sessions
        </label>
      }
    >
      {items.length === 0 ? (
        <p className="text-sm text-zinc-500 dark:text-zinc-400">
          {machine.recordConsole
            ? 'No recordings yet: the next console session is recorded (a running console from when it is next opened after a restart).'
            : 'Nothing recorded. Turn recording on to keep each console session.'}
        </p>
      ) : (
        <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800" aria-label="Recordings list">
          {items.map((r) => (
            <li key={r.id} className="py-2" data-testid="recording">
              <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
                <span className="font-medium">{r.console}</span>
                <span className="text-zinc-500 dark:text-zinc-400">{formatAge(r.startedAt)}</span>
                <span className="tabular-nums text-zinc-500 dark:text-zinc-400">
                  {formatDuration(r.durationS * 1000)} · {formatBytes(r.bytes)}
                </span>
                {r.active && <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs text-red-700 dark:bg-red-950 dark:text-red-300">recording</span>}
                <span className="ml-auto flex gap-1">
                  <button
                    type="button"
                    onClick={() => setPlaying(playing === r.id ? null : r.id)}
                    className="rounded px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800"
                  >
                    {playing === r.id ? 'Close' : 'Play'}
                  </button>
                  <a
                    href={`${api.machines.recordingUrl(machine.id, r.id)}?download=1`}
                    className="rounded px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800"
                    download
                  >
                    Download
                  </a>
                  {canChange && (
                    <button
                      type="button"
                      onClick={() => setSharing(sharing === r.id ? null : r.id)}
                      className="rounded px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800"
                    >
                      Share
                    </button>
                  )}
                  {canChange && !r.active && (
                    <button
                      type="button"
                      onClick={async () => (await confirm({ title: 'Delete this recording?', confirmLabel: 'Delete', danger: true })) && remove.mutate(r.id)}
                      className="rounded px-2 py-1 text-red-600 hover:bg-red-50 dark:hover:bg-red-950"
                    >
                      Delete
                    </button>
                  )}
                </span>
              </div>
              {sharing === r.id && <RecordingShareForm machineId={machine.id} recordingId={r.id} onClose={() => setSharing(null)} />}
              {playing === r.id && <RecordingTimeline machineId={machine.id} recording={r} canRestore={canRestore} />}
            </li>
          ))}
        </ul>
      )}
      {canChange && <RecordingLinks machineId={machine.id} />}
    </Section>
  );
}
