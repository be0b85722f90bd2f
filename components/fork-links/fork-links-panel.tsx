'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import type { ForkAction, ForkLink } from '@/lib/contracts/fork-links';
import { formatAge } from '@/lib/format';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const small = 'rounded px-2 py-1 text-xs font-medium hover:bg-zinc-100 disabled:opacity-50 dark:hover:bg-zinc-800';
const danger = 'rounded px-2 py-1 text-xs font-medium text-red-700 hover:bg-red-50 disabled:opacity-50 dark:text-red-400 dark:hover:bg-red-950/40';
const muted = 'text-xs text-zinc-600 dark:text-zinc-400';
/** "in 3 h", "in 20 min": how long until a time ahead. */
const inTime = (ts: number) => {
  const m = Math.max(1, Math.round((ts - Date.now()) / 60_000));
  return m >= 2880 ? `in ${Math.round(m / 1440)} days` : m >= 120 ? `in ${Math.round(m / 60)} h` : `in ${m} min`;
};

/** The forks made through one link: who opened it (address, browser), when, and stop / destroy / adopt. */
function LinkForks({ link }: { link: ForkLink }) {
  const qc = useQueryClient();
  const toast = useToast();
  const forks = useQuery({ queryKey: keys.forkLinkForks(link.id), queryFn: async () => (await api.forkLinks.forks(link.id)).items, refetchInterval: 5000 });
  const act = useMutation({
    mutationFn: ({ forkId, action }: { forkId: string; action: ForkAction }) => api.forkLinks.act(link.id, forkId, action),
    onSuccess: (_r, v) => {
      toast('info', v.action === 'adopt' ? 'Adopted: it is one of your machines now, with no lifetime.' : `Fork: ${v.action} done`);
      void qc.invalidateQueries({ queryKey: keys.forkLinks() });
    },
    onError: (err) => toast('error', err.message),
  });
  if (!forks.data?.length) return <p className={`${muted} py-1`}>Nobody opened it yet.</p>;
  return (
    <ul aria-label={`Forks of ${link.label ?? link.id}`} className="divide-y divide-zinc-100 dark:divide-zinc-800">
      {forks.data.map((f) => (
        <li key={f.id} data-testid="fork-link-fork" data-state={f.state} className="flex flex-wrap items-center gap-3 py-1.5 text-sm">
          <span className="min-w-0 flex-1 truncate">
            {f.machineName ? <Link href={`/machines/${f.machineName}`}>{f.machineName}</Link> : '—'}{' '}
            <span className={muted}>
              · {f.state}
              {f.reason && f.state !== 'running' ? ` (${f.reason})` : ''}
            </span>
          </span>
          <span className={muted} title={f.userAgent ?? undefined}>
            opened {formatAge(f.createdAt)} from {f.ip ?? 'unknown'}
          </span>
          {(f.state === 'running' || f.state === 'starting') && (
            <span className="flex gap-1">
              <button type="button" className={small} disabled={act.isPending} onClick={() => act.mutate({ forkId: f.id, action: 'stop' })}>
                Stop
              </button>
              <button type="button" className={small} disabled={act.isPending} onClick={() => act.mutate({ forkId: f.id, action: 'adopt' })}>
                Adopt
              </button>
              <button type="button" className={danger} disabled={act.isPending} onClick={() => act.mutate({ forkId: f.id, action: 'destroy' })}>
                Destroy
              </button>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Fork links (all of them, or those made from one machine), each with its forks; revoke destroying or keeping them. */
export function ForkLinksPanel({ machineId }: { machineId?: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const links = useQuery({ queryKey: keys.forkLinks(), queryFn: async () => (await api.forkLinks.list()).items, refetchInterval: 10_000, retry: false });
  const revoke = useMutation({
    mutationFn: ({ id, forks }: { id: string; forks: 'destroy' | 'keep' }) => api.forkLinks.revoke(id, forks),
    onSuccess: (_l, v) => {
      toast('info', v.forks === 'destroy' ? 'Link revoked: its forks are destroyed.' : 'Link revoked: its forks are kept as your machines.');
      void qc.invalidateQueries({ queryKey: keys.forkLinks() });
    },
    onError: (err) => toast('error', err.message),
  });
  // Fork links are global operators' (an owner grant on one machine does not reach them): nothing to show then.
  if (links.error) return null;
  const shown = (links.data ?? []).filter((l) => !machineId || l.machineId === machineId).slice(0, 20);
  return (
    <section aria-label="Fork links" className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
      <h2 className="text-sm font-semibold">Fork links</h2>
      <p className={`mt-0.5 ${muted}`}>Each opener gets a private running fork for a while. Make one with “Fork link” on a snapshot or a running machine.</p>
      {!shown.length && <p className={`mt-3 ${muted}`}>No fork links yet.</p>}
      <ul className="mt-3 space-y-3">
        {shown.map((l) => (
          <li key={l.id} data-testid="fork-link" data-state={l.state} className="rounded-lg border border-zinc-200 px-3 py-2 dark:border-zinc-800">
            <div className="flex flex-wrap items-center gap-3 text-sm">
              <span className="min-w-0 flex-1 truncate font-medium">
                {l.label ?? 'fork link'} <span className={muted}>· from {l.snapshotLabel ?? l.snapshotId}</span>
              </span>
              <span className={muted}>
                {l.used}/{l.maxForks} forks · each {Math.round(l.lifetimeSeconds / 60)} min ·{' '}
                {l.state === 'active' || l.state === 'used_up' ? `expires ${inTime(l.expiresAt)}` : l.state}
              </span>
              {l.state !== 'revoked' && (
                <span className="flex gap-1">
                  <button type="button" className={danger} disabled={revoke.isPending} onClick={() => revoke.mutate({ id: l.id, forks: 'destroy' })}>
                    Revoke and destroy forks
                  </button>
                  <button type="button" className={small} disabled={revoke.isPending} onClick={() => revoke.mutate({ id: l.id, forks: 'keep' })}>
                    Revoke, keep forks
                  </button>
                </span>
              )}
            </div>
            <LinkForks link={l} />
          </li>
        ))}
      </ul>
    </section>
  );
}
