'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError } from '@/lib/api-client';
import type { UndoRing, UndoSettingsBody } from '@/lib/contracts/undo';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const button =
  'rounded-md border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800';
const when = (t: number | null) => (t ? new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '—');

/** The undo ring's settings on the Snapshots tab: a checkpoint every N minutes, the newest K kept; its points listed. */
export function UndoPanel({ machineId, canChange }: { machineId: string; canChange: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [problems, setProblems] = useState<string[]>([]);
  const ring = useQuery({ ...queries(api).machineUndo(machineId), refetchInterval: 30_000 });
  const done = (r: UndoRing) => {
    setProblems([]);
    qc.setQueryData(keys.machineUndo(machineId), r);
  };
  const save = useMutation({
    mutationFn: (b: UndoSettingsBody) => api.undo.enable(machineId, b),
    onSuccess: (r) => {
      done(r);
      toast('success', `Undo ring on: a point every ${r.everyMinutes} min, ${r.keep} kept`);
    },
    onError: (err) => setProblems(err instanceof ApiError && err.issues?.length ? err.issues.map((i) => `${i.path}: ${i.message}`) : [err.message]),
  });
  const off = useMutation({
    mutationFn: () => api.undo.disable(machineId),
    onSuccess: (r) => {
      done(r);
      toast('info', 'Undo ring off (its points stay, as snapshots)');
    },
    onError: (err) => toast('error', err.message),
  });
  const r = ring.data;
  const on = !!r && r.everyMinutes !== null;
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    save.mutate({ everyMinutes: Number(f.get('everyMinutes')), keep: Number(f.get('keep')) });
  }
  return (
    <Section
      title="Undo"
      description="A rolling checkpoint every few minutes, the oldest pruned as new ones come: undo the last N minutes from the machine's header."
    >
      <div className="space-y-3 px-5 py-4 text-sm" data-testid="undo-panel">
        <p className="text-zinc-600 dark:text-zinc-400">
          {!r
            ? 'Loading…'
            : on
              ? `On: an undo point every ${r.everyMinutes} min, the newest ${r.keep} kept. Next ${when(r.nextRunAt)}.` +
                (r.lastStatus ? ` Last: ${r.lastStatus} ${when(r.lastRunAt)}.` : '')
              : 'Off: no undo points are taken.'}
        </p>
        {r?.lastError && <p className="text-red-700 dark:text-red-400">{r.lastError}</p>}
        {canChange && r && (
          <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2" aria-label="Undo ring settings" key={`${r.everyMinutes}-${r.keep}`}>
            <label>
              <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Every (minutes)</span>
              <input name="everyMinutes" type="number" min={1} max={1440} required defaultValue={r.everyMinutes ?? 5} className={`${field} w-24`} />
            </label>
            <label>
              <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Points kept</span>
              <input name="keep" type="number" min={1} max={100} required defaultValue={r.keep ?? 6} className={`${field} w-24`} />
            </label>
            <button type="submit" disabled={save.isPending} className={button}>
              {on ? 'Save' : 'Turn on'}
            </button>
            {on && (
              <button type="button" disabled={off.isPending} onClick={() => off.mutate()} className={button}>
                Turn off
              </button>
            )}
          </form>
        )}
        {problems.length > 0 && (
          <ul className="text-red-700 dark:text-red-400" role="alert">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        {r && r.points.length > 0 && (
          <ul className="space-y-0.5 text-xs text-zinc-600 dark:text-zinc-400" aria-label="Undo points">
            {r.points.map((p) => (
              <li key={p.id} data-testid="undo-point">
                {when(p.createdAt)} <span className="font-mono text-zinc-500">{p.id}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Section>
  );
}
