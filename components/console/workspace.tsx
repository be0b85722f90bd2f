'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import type { Prefs, WorkspacePane } from '@/lib/contracts/prefs';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Console } from '@/components/console/console';
import { EmptyState } from '@/components/ui/empty-state';
import { StateBadge } from '@/components/machines/state-badge';
import { useToast } from '@/components/shell/toasts';

type Layout = NonNullable<Prefs['workspace']>;
const EMPTY: Layout = { columns: 2, panes: [] };
const paneKey = (p: WorkspacePane) => `${p.machineId}:${p.channel}`;
const gridCols: Record<number, string> = { 1: 'lg:grid-cols-1', 2: 'lg:grid-cols-2', 3: 'lg:grid-cols-3', 4: 'lg:grid-cols-4' };
const small = 'rounded px-1.5 py-0.5 hover:bg-zinc-200 disabled:opacity-30 dark:hover:bg-zinc-800';

/**
 * Several consoles side by side. The grid (which consoles, in which order, how many columns)
 * is saved for the user on the server; broadcast typing sends what is typed in one marked
 * console to every other marked one, and the marked ones say so in red.
 */
export function Workspace() {
  const qc = useQueryClient();
  const toast = useToast();
  const prefs = useQuery(queries(api).prefs());
  const machines = useQuery(queries(api).machines());
  const layout = prefs.data?.workspace ?? EMPTY;
  const [broadcast, setBroadcast] = useState<Set<string>>(new Set());
  const senders = useRef(new Map<string, (data: string) => void>());
  const [pick, setPick] = useState('');
  const save = useMutation({
    mutationFn: (workspace: Layout) => api.auth.setPrefs({ ...prefs.data, workspace }),
    onMutate: (workspace) => qc.setQueryData(keys.prefs(), { ...prefs.data, workspace }),
    onError: (err) => {
      toast('error', `The layout was not saved: ${err.message}`);
      void qc.invalidateQueries({ queryKey: keys.prefs() });
    },
  });
  const byId = new Map((machines.data ?? []).map((m) => [m.id, m]));
  const set = (next: Partial<Layout>) => save.mutate({ ...layout, ...next });
  const add = () => {
    const [machineId, channel] = pick.split(':') as [string, WorkspacePane['channel']];
    if (!machineId || layout.panes.some((p) => paneKey(p) === pick)) return;
    set({ panes: [...layout.panes, { machineId, channel }] });
    setPick('');
  };
  const move = (i: number, by: number) => {
    const panes = [...layout.panes];
    const [p] = panes.splice(i, 1);
    panes.splice(Math.max(0, Math.min(panes.length, i + by)), 0, p);
    set({ panes });
  };
  const remove = (p: WorkspacePane) => {
    set({ panes: layout.panes.filter((x) => paneKey(x) !== paneKey(p)) });
    setBroadcast((b) => new Set([...b].filter((k) => k !== paneKey(p))));
  };
  const toggleBroadcast = (k: string) =>
    setBroadcast((b) => {
      const n = new Set(b);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  /** Typed in a marked console: the same keys to the other marked ones. */
  const typed = (from: string) => (data: string) => {
    if (!broadcast.has(from)) return;
    for (const k of broadcast) if (k !== from) senders.current.get(k)?.(data);
  };
  const options = (machines.data ?? [])
    .flatMap((m: Machine) => [
      { value: `${m.id}:serial`, label: `${m.name} · ${m.capabilities.consoles.main.short}` },
      ...(m.ssh && m.capabilities.consoles.shell ? [{ value: `${m.id}:ssh`, label: `${m.name} · ${m.capabilities.consoles.shell.short}` }] : []),
    ])
    .filter((o) => !layout.panes.some((p) => paneKey(p) === o.value));

  if (prefs.isPending || machines.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <label className="flex items-center gap-2">
          <span className="sr-only">Console to add</span>
          <select
            aria-label="Console to add"
            value={pick}
            onChange={(e) => setPick(e.target.value)}
            className="rounded-md border border-zinc-300 bg-white px-2 py-1.5 dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">Add a console…</option>
            {options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={add}
          disabled={!pick}
          className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white hover:bg-sky-600 disabled:opacity-40"
        >
          Add
        </button>
        <label className="ml-auto flex items-center gap-2">
          Columns
          <select
            aria-label="Columns"
            value={layout.columns}
            onChange={(e) => set({ columns: Number(e.target.value) })}
            className="rounded-md border border-zinc-300 bg-white px-2 py-1.5 dark:border-zinc-700 dark:bg-zinc-900"
          >
            {[1, 2, 3, 4].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      {broadcast.size > 0 && (
        <p
          role="status"
          className={`rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm font-medium text-red-800 dark:border-red-800
            dark:bg-red-950 dark:text-red-200`}
          data-testid="broadcast-banner"
        >
          Broadcast typing is on: keys typed in a marked console go to all {broadcast.size} marked consoles.
        </p>
      )}
      {layout.panes.length === 0 ? (
        <EmptyState icon="console" title="No consoles here yet">
          <p>Add machine consoles to watch and type into them side by side. The layout is saved for you.</p>
        </EmptyState>
      ) : (
        <div className={`grid grid-cols-1 gap-3 ${gridCols[layout.columns]}`}>
          {layout.panes.map((p, i) => {
            const m = byId.get(p.machineId);
            const k = paneKey(p);
            const on = broadcast.has(k);
            const live = m && (m.state === 'running' || m.state === 'paused' || m.state === 'starting');
            return (
              <section
                key={k}
                aria-label={`${m?.name ?? 'gone'} ${p.channel}`}
                className={`flex flex-col rounded-xl ${on ? 'ring-2 ring-red-500' : ''}`}
                data-testid="workspace-pane"
              >
                <header className="flex flex-wrap items-center gap-2 px-1 pb-1 text-xs">
                  <span className="font-semibold">{m?.name ?? 'a machine that is gone'}</span>
                  <span className="text-zinc-500 dark:text-zinc-400">{p.channel}</span>
                  {m && <StateBadge state={m.state} />}
                  <label className={`ml-auto flex items-center gap-1 ${on ? 'font-semibold text-red-700 dark:text-red-300' : ''}`}>
                    <input type="checkbox" checked={on} onChange={() => toggleBroadcast(k)} disabled={!live} />
                    Broadcast
                  </label>
                  <button
                    type="button"
                    className={small}
                    onClick={() => move(i, -1)}
                    disabled={i === 0}
                    aria-label={`Move ${m?.name ?? ''} ${p.channel} earlier`}
                  >
                    ←
                  </button>
                  <button
                    type="button"
                    className={small}
                    onClick={() => move(i, 1)}
                    disabled={i === layout.panes.length - 1}
                    aria-label={`Move ${m?.name ?? ''} ${p.channel} later`}
                  >
                    →
                  </button>
                  <button type="button" className={small} onClick={() => remove(p)} aria-label={`Remove ${m?.name ?? ''} ${p.channel}`}>
                    ✕
                  </button>
                </header>
                {live && (p.channel === 'serial' || m.state === 'running') ? (
                  <Console
                    target={{ kind: 'machine', machineId: p.machineId, channel: p.channel }}
                    sessionKey={`ws-${k}`}
                    title={`${m.name}-${p.channel}`}
                    className="h-80"
                    onTyped={typed(k)}
                    inputRef={(send) => {
                      if (send) senders.current.set(k, send);
                      else senders.current.delete(k);
                    }}
                  />
                ) : (
                  <p
                    className={`flex h-80 items-center justify-center rounded-xl border border-dashed border-zinc-300 text-sm text-zinc-500
                    dark:text-zinc-400 dark:border-zinc-700`}
                  >
                    {m ? `${m.name} is ${m.state}.` : 'Remove this pane.'}
                  </p>
                )}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}
