'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** "Undo the last N minutes" in the machine's header, while its undo ring is on. */
export function UndoButton({ machineId, machineName }: { machineId: string; machineName: string }) {
  const toast = useToast();
  const confirm = useConfirm();
  const ring = useQuery({ ...queries(api).machineUndo(machineId), refetchInterval: 30_000 }).data;
  const [minutes, setMinutes] = useState(() => ring?.everyMinutes ?? 5);
  const undo = useMutation({
    mutationFn: (n: number) => api.undo.undo(machineId, n),
    onSuccess: (job) => toast('info', `${job.title}: started`),
    onError: (err) => toast('error', err.message),
  });
  if (!ring || ring.everyMinutes === null) return null;
  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const ok = await confirm({
      title: `Undo the last ${minutes} minutes of ${machineName}?`,
      body: 'It goes back to the newest undo point at least that old; what it did since is lost.',
      confirmLabel: 'Undo',
    });
    if (ok) undo.mutate(minutes);
  }
  return (
    <form onSubmit={(e) => void onSubmit(e)} className="flex items-center gap-1.5 text-sm" aria-label="Undo">
      <button
        type="submit"
        disabled={undo.isPending}
        className="rounded-md border border-zinc-300 px-3 py-1.5 font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
      >
        Undo the last
      </button>
      <label className="flex items-center gap-1.5">
        <input
          type="number"
          min={1}
          max={10080}
          value={minutes}
          onChange={(e) => setMinutes(Math.max(1, Number(e.target.value) || 1))}
          className={`${field} w-16`}
          aria-label="Minutes to undo"
        />
        minutes
      </label>
    </form>
  );
}
