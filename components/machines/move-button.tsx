'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/shell/toasts';

const field = 'w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * "Move…": the machine to another online node of the cluster (shown when there is one). A running
 * VM moves live, its guest running on; a stopped machine by copying its files. The driver's
 * description says whether it can and why not (the button is greyed with that reason); the
 * server's refusal (memory, driver, draining) is shown in the dialog as it said it; the job's
 * progress follows in the toast and on the Jobs page.
 */
export function MoveButton({ machine }: { machine: Machine }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nodes = useQuery(queries(api).nodes()).data ?? [];
  const others = nodes.filter((n) => n.online && n.id !== machine.node?.id);
  const move = useMutation({
    mutationFn: (node: string) => api.machines.move(machine.id, { node }),
    onSuccess: (job) => {
      toast('info', `${job.title}: started`);
      setOpen(false);
      void qc.invalidateQueries({ queryKey: keys.jobs() });
    },
    onError: (err) => setError(err.message),
  });
  if (nodes.length < 2 || (machine.state !== 'running' && machine.state !== 'stopped')) return null;
  const can = machine.state === 'running' ? machine.capabilities.move.live : machine.capabilities.move;
  // A running machine keeps its memory (a VM's live migration), or is frozen, copied and started again there (a container).
  const restart = machine.state === 'running' && machine.capabilities.move.running === 'restart';
  const why = !can.available ? can.reason : others.length === 0 ? 'No other node is online.' : null;
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    move.mutate(String(new FormData(e.currentTarget).get('node')));
  }
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
        disabled={why !== null}
        title={
          why ??
          (machine.state !== 'running'
            ? 'Move it to another node'
            : restart
              ? 'Move it to another node: frozen while its files are copied, then started there'
              : 'Move it to another node while it runs (live migration)')
        }
        className={`rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-zinc-50 disabled:opacity-60
          dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800`}
      >
        Move…
      </button>
      {open && (
        <Modal
          onClose={() => setOpen(false)}
          aria-label="Move machine"
          className={`m-auto w-[calc(100%-2rem)] max-w-md rounded-xl border border-zinc-200 bg-white p-5 text-zinc-900 shadow-xl
            dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
        >
          <h2 className="text-base font-semibold">Move {machine.name}</h2>
          <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
            {machine.state !== 'running'
              ? 'Its files are copied to the other node; it stays stopped.'
              : restart
                ? 'It is frozen while its files are copied to the other node, then started there: its processes start again. ' +
                  'If the move fails, it runs on here.'
                : 'It keeps running: its disk and memory are copied to the other node while it runs, and it stops only for the switch.'}{' '}
            Its snapshots stay on node {machine.node?.name ?? 'this one'}.
          </p>
          <form onSubmit={onSubmit} aria-label="Move to a node" className="mt-4 grid gap-3">
            <label className="text-sm">
              <span className="mb-1 block text-xs text-zinc-600 dark:text-zinc-400">To node</span>
              <select name="node" className={field} defaultValue={others[0]?.name}>
                {others.map((n) => (
                  <option key={n.id} value={n.name}>
                    {n.name}
                    {n.state === 'draining' ? ' (draining)' : ''}
                  </option>
                ))}
              </select>
            </label>
            {error && (
              <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950/40 dark:text-red-300">
                {error}
              </p>
            )}
            <div className="flex justify-end gap-2">
              <button type="button" onClick={() => setOpen(false)} className="rounded-md px-3 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
                Cancel
              </button>
              <button
                type="submit"
                disabled={move.isPending || others.length === 0}
                className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
              >
                {move.isPending ? 'Asking…' : 'Move'}
              </button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}
