'use client';

import { useMutation } from '@tanstack/react-query';
import type { BulkAction, Machine } from '@/lib/contracts/machines';
import { appliesTo, dangerous, verbLabels } from '@/lib/machine-actions';
import { api } from '@/components/ui/api';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/shell/toasts';

const ACTIONS: BulkAction[] = ['start', 'stop', 'pause', 'resume', 'restart', 'checkpoint', 'force-stop', 'destroy'];

const consequence: Partial<Record<BulkAction, string>> = {
  destroy: 'Their disks and console logs are deleted; snapshots taken of them stay.',
  'force-stop': 'Like pulling the plug: what the guests have not written to disk is lost.',
  stop: 'Each gets an ACPI shutdown, and is stopped hard if it does not power off within 30 s.',
  checkpoint: 'Running machines are saved live (memory, devices and disk); stopped ones their disk.',
};

/**
 * What to do with the selected machines. Each button says to how many of them it applies (the
 * others are in a state where it makes no sense, and are left alone); every action is confirmed
 * with the list of machines first, then runs as one job per machine.
 */
export function BulkBar({ selected, onClear }: { selected: Machine[]; onClear: () => void }) {
  const confirm = useConfirm();
  const toast = useToast();
  const run = useMutation({
    mutationFn: ({ action, names }: { action: BulkAction; names: string[] }) => api.machines.bulk({ action, machines: names }),
    onSuccess: ({ results }, { action }) => {
      const started = results.filter((r) => r.job).length;
      const refused = results.filter((r) => !r.job);
      // The selection stays: the next step (resume what was paused, destroy what was stopped) is often on the same machines.
      toast(
        refused.length ? 'error' : 'info',
        `${verbLabels[action]}: ${started} started${
          refused.length
            ? `; ${refused.length} refused (${refused
                .slice(0, 3)
                .map((r) => `${r.machine}: ${r.error?.message}`)
                .join('; ')})`
            : ''
        }`,
      );
    },
    onError: (err) => toast('error', err.message),
  });

  async function go(action: BulkAction) {
    const targets = selected.filter((m) => appliesTo(action, m));
    const skipped = selected.length - targets.length;
    const ok = await confirm({
      title: `${verbLabels[action]} ${targets.length} ${targets.length === 1 ? 'machine' : 'machines'}?`,
      body: (
        <>
          <p tabIndex={0} className="max-h-32 overflow-auto font-mono text-xs">
            {targets.map((m) => m.name).join(', ')}
          </p>
          {consequence[action] && <p>{consequence[action]}</p>}
          {skipped > 0 && (
            <p>
              {skipped} other selected {skipped === 1 ? 'machine is' : 'machines are'} left alone (not in a state where this applies).
            </p>
          )}
        </>
      ),
      confirmLabel: verbLabels[action],
      danger: dangerous(action),
    });
    if (ok) run.mutate({ action, names: targets.map((m) => m.name) });
  }

  return (
    <div
      role="toolbar"
      aria-label="Selected machines"
      className="flex flex-wrap items-center gap-2 rounded-xl border border-sky-200 bg-sky-50 px-3 py-2 text-sm dark:border-sky-900 dark:bg-sky-950/40"
    >
      <span className="font-medium">{selected.length} selected</span>
      {ACTIONS.map((a) => {
        const n = selected.filter((m) => appliesTo(a, m)).length;
        return (
          <button
            key={a}
            type="button"
            disabled={n === 0 || run.isPending}
            onClick={() => void go(a)}
            className={
              `rounded-md px-2.5 py-1 font-medium disabled:cursor-not-allowed disabled:opacity-50 ` +
              (dangerous(a)
                ? 'text-red-700 hover:bg-red-100 dark:text-red-300 dark:hover:bg-red-950/50'
                : 'border border-zinc-300 bg-white hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800')
            }
          >
            {verbLabels[a]}
            {n !== selected.length && n > 0 ? ` (${n})` : ''}
          </button>
        );
      })}
      <button
        type="button"
        onClick={onClear}
        className="ml-auto rounded-md px-2 py-1 text-xs font-medium text-zinc-700 hover:bg-white/70 dark:text-zinc-300 dark:hover:bg-zinc-900"
      >
        Clear selection
      </button>
    </div>
  );
}
