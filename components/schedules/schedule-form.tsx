'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError } from '@/lib/api-client';
import { KEEP_RULES, type Keep } from '@/lib/contracts/schedules';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const words: Record<(typeof KEEP_RULES)[number], string> = { last: 'Last', hourly: 'Hourly', daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly' };

/** Add a schedule to a machine: a cron in a time zone and how many snapshots to keep (restic-like). */
export function ScheduleForm({ machineId }: { machineId: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [problems, setProblems] = useState<string[]>([]);
  // Back each checkpoint up to a target too, when any exists.
  const targets = useQuery(queries(api).backupTargets()).data ?? [];
  const zone = typeof Intl !== 'undefined' ? Intl.DateTimeFormat().resolvedOptions().timeZone : 'UTC';
  const create = useMutation({
    mutationFn: (b: { cron: string; timeZone: string; keep: Keep; backup?: { target: string; keep: number } }) =>
      api.schedules.create({ machine: machineId, ...b }),
    onSuccess: (s) => {
      setProblems([]);
      toast('success', `Schedule added: "${s.cron}" (${s.timeZone})`);
      void qc.invalidateQueries({ queryKey: keys.machineSchedules(machineId) });
    },
    onError: (err) => {
      // The server names the field: cron, timeZone or keep.
      setProblems(err instanceof ApiError && err.issues?.length ? err.issues.map((i) => `${i.path}: ${i.message}`) : [err.message]);
    },
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const keep: Keep = {};
    for (const r of KEEP_RULES) {
      const n = Number(f.get(`keep-${r}`) || 0);
      if (n > 0) keep[r] = n;
    }
    const target = String(f.get('backupTarget') ?? '');
    const backup = target ? { target, keep: Number(f.get('backupKeep') || 3) } : undefined;
    create.mutate({ cron: String(f.get('cron')).trim(), timeZone: String(f.get('timeZone')).trim() || 'UTC', keep, ...(backup ? { backup } : {}) });
  }
  return (
    <form onSubmit={onSubmit} className="space-y-2" aria-label="Add a schedule">
      <div className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Cron (minute hour day month weekday)</span>
          <input name="cron" required defaultValue="0 3 * * *" maxLength={200} className={`${field} w-40 font-mono`} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Time zone</span>
          <input name="timeZone" defaultValue={zone} maxLength={64} className={`${field} w-40`} />
        </label>
        {KEEP_RULES.map((r) => (
          <label key={r} className="text-sm">
            <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Keep {words[r].toLowerCase()}</span>
            <input name={`keep-${r}`} type="number" min={0} max={1000} defaultValue={r === 'last' ? 3 : r === 'daily' ? 7 : 0} className={`${field} w-20`} />
          </label>
        ))}
        {targets.length > 0 && (
          <>
            <label className="text-sm">
              <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Back up to</span>
              <select name="backupTarget" defaultValue="" className={field}>
                <option value="">(no backup)</option>
                {targets.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="text-sm">
              <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Keep there</span>
              <input name="backupKeep" type="number" min={1} max={1000} defaultValue={3} className={`${field} w-20`} />
            </label>
          </>
        )}
        <button
          type="submit"
          disabled={create.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Add schedule
        </button>
      </div>
      {problems.length > 0 && (
        <ul role="alert" className="text-sm text-red-700 dark:text-red-400">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </form>
  );
}
