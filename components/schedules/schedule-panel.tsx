'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { KEEP_RULES, type Schedule } from '@/lib/contracts/schedules';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';
import { ScheduleForm } from './schedule-form';

const when = (t: number | null) => (t ? new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');
const keepWords = (s: Schedule) =>
  KEEP_RULES.filter((r) => (s.keep[r] ?? 0) > 0)
    .map((r) => `${r} ${s.keep[r]}`)
    .join(', ') + (s.backup ? `; backed up, last ${s.backup.keep} kept on the target` : '');
const status: Record<NonNullable<Schedule['lastStatus']>, string> = {
  running: 'text-sky-700 dark:text-sky-400',
  succeeded: 'text-emerald-700 dark:text-emerald-400',
  failed: 'text-red-700 dark:text-red-400',
};

/** A machine's snapshot schedules (its own and its tags'): next run, last run and how it went; add and remove. */
export function SchedulePanel({ machineId, canChange }: { machineId: string; canChange: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const list = useQuery({ ...queries(api).machineSchedules(machineId), refetchInterval: 30_000 });
  const remove = useMutation({
    mutationFn: (id: string) => api.schedules.remove(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.machineSchedules(machineId) }),
    onError: (err) => toast('error', err.message),
  });
  const ask = async (s: Schedule) => {
    if (await confirm({ title: 'Remove this schedule?', body: `"${s.cron}" (${s.timeZone}). The snapshots it took stay.`, confirmLabel: 'Remove' }))
      remove.mutate(s.id);
  };
  const items = list.data ?? [];
  return (
    <Section
      title="Schedules"
      description="Snapshots on a cron: live when the machine runs, disk when stopped; older ones pruned by the retention (restic-like)."
    >
      <div className="space-y-4 px-5 py-4">
        {items.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">{list.isLoading ? 'Loading…' : 'No schedule takes snapshots of this machine.'}</p>
        ) : (
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 dark:text-zinc-400">
              <tr>
                <th className="py-1 pr-3 font-medium">When</th>
                <th className="py-1 pr-3 font-medium">Keeps</th>
                <th className="py-1 pr-3 font-medium">Next run</th>
                <th className="py-1 pr-3 font-medium">Last run</th>
                <th className="py-1 font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id} className="border-t border-zinc-100 dark:border-zinc-800" data-testid="schedule-row">
                  <td className="py-2 pr-3">
                    <code className="font-mono text-xs">{s.cron}</code> <span className="text-xs text-zinc-500">{s.timeZone}</span>
                    {s.tag && <span className="ml-2 rounded bg-zinc-100 px-1.5 text-xs dark:bg-zinc-800">tag {s.tag}</span>}
                  </td>
                  <td className="py-2 pr-3">{keepWords(s)}</td>
                  <td className="py-2 pr-3">{when(s.nextRunAt)}</td>
                  <td className="py-2 pr-3">
                    {s.lastStatus ? (
                      <>
                        <span className={status[s.lastStatus]}>{s.lastStatus}</span> {when(s.lastRunAt)}
                        {s.lastJobId && <span className="ml-2 font-mono text-xs text-zinc-500">job {s.lastJobId}</span>}
                        {s.lastError && <span className="block text-xs text-red-700 dark:text-red-400">{s.lastError}</span>}
                      </>
                    ) : (
                      <span className="text-zinc-500">not yet</span>
                    )}
                  </td>
                  <td className="py-2 text-right">
                    {canChange && !s.tag && (
                      <button
                        type="button"
                        onClick={() => void ask(s)}
                        className="text-xs text-red-700 underline dark:text-red-400"
                        aria-label={`Remove schedule ${s.cron}`}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {canChange && <ScheduleForm machineId={machineId} />}
      </div>
    </Section>
  );
}
