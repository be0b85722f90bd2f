'use client';

import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { applyView, paramsFromView, tagCounts, viewFromParams, type MachineView, type SortKey } from '@/lib/machine-filter';
import { hasRole } from '@/lib/roles';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { BulkBar } from '@/components/machines/bulk-bar';
import { Cmd, EmptyState } from '@/components/ui/empty-state';
import { liveStats } from '@/components/overview/live-stats';
import { MachineRow } from '@/components/machines/machine-row';
import { MachineToolbar } from '@/components/machines/machine-toolbar';
import { NewMachineForm } from '@/components/machines/new-machine-form';
import { replaceQuery } from '@/components/ui/url-query';

const columns: { key: SortKey | null; label: string; className?: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'state', label: 'State' },
  { key: 'driver', label: 'Driver', className: 'hidden sm:table-cell' },
  { key: 'image', label: 'Image', className: 'hidden md:table-cell' },
  { key: 'cpu', label: 'CPU', className: 'hidden lg:table-cell' },
  { key: 'memory', label: 'Memory', className: 'hidden lg:table-cell' },
  { key: null, label: 'Resources', className: 'hidden md:table-cell' },
  { key: 'created', label: 'Created', className: 'hidden xl:table-cell' },
];

/** Machines, searched, filtered, sorted (the view lives in the URL), selected for bulk actions, with live sparklines. */
export function MachineList() {
  const machines = useQuery(queries(api).machines());
  const me = useQuery(queries(api).me()).data;
  const params = useSearchParams();
  const view = useMemo(() => viewFromParams(new URLSearchParams(params.toString())), [params]);
  // ?new=1 (the palette's New machine, the n key from another page) opens the form.
  const [creating, setCreating] = useState(() => params.get('new') === '1');
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const lastClicked = useRef<string | null>(null);
  const canCreate = !!me && hasRole(me.role, 'operator');
  // Operators act on any machine; a member may hold operator grants on some (the server decides per machine).
  const canSelect = !!me && (hasRole(me.role, 'operator') || me.role === 'member');

  // Sparklines for the machines already running when the page opens: the last minute, from the server.
  useEffect(() => {
    let gone = false;
    api.stats.machines().then(
      (r) => !gone && r.items.forEach((x) => liveStats.seed(x.id, x.samples)),
      () => undefined,
    );
    return () => {
      gone = true;
    };
  }, []);

  const setView = useCallback((patch: Partial<MachineView>) => {
    replaceQuery(paramsFromView({ ...viewFromParams(new URLSearchParams(window.location.search)), ...patch }));
  }, []);

  const all = useMemo(() => machines.data ?? [], [machines.data]);
  // Sorting by CPU or memory reads the live figures when the list changes, not on every tick (rows would jump about).
  const shown = useMemo(() => applyView(all, view, (id) => liveStats.last(id)), [all, view]);
  const tags = useMemo(() => tagCounts(all), [all]);
  // Machines destroyed meanwhile drop out here: their ids in `selected` name nothing.
  const selectedMachines = useMemo(() => all.filter((m) => selected.has(m.id)), [all, selected]);

  // The rows' callbacks stay the same across updates (the rows are memoized): they read the list through a ref.
  const shownRef = useRef(shown);
  shownRef.current = shown;
  const onSelect = useCallback((id: string, on: boolean, range: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      // Shift-click selects everything shown between the last click and this one.
      const ids = shownRef.current.map((m) => m.id);
      const a = lastClicked.current ? ids.indexOf(lastClicked.current) : -1;
      const b = ids.indexOf(id);
      const span = range && a >= 0 && b >= 0 ? ids.slice(Math.min(a, b), Math.max(a, b) + 1) : [id];
      for (const x of span)
        if (on) next.add(x);
        else next.delete(x);
      return next;
    });
    lastClicked.current = id;
  }, []);
  const onTag = useCallback((t: string) => setView({ tags: [t] }), [setView]);

  if (machines.isPending) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Loading machines…</p>;
  if (machines.error) return <p className="text-sm text-red-600">Could not load machines: {machines.error.message}</p>;
  const allShownSelected = shown.length > 0 && shown.every((m) => selected.has(m.id));
  const someShownSelected = shown.some((m) => selected.has(m.id));
  return (
    <div className="space-y-4">
      {canCreate && (
        <div className="rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/40">
          {creating ? (
            <div className="p-4">
              <NewMachineForm onDone={() => setCreating(false)} />
            </div>
          ) : (
            <button
              type="button"
              onClick={() => setCreating(true)}
              data-hotkey-new
              className="w-full px-4 py-3 text-left text-sm font-medium text-sky-700 hover:bg-sky-50/60 dark:text-sky-300 dark:hover:bg-sky-950/30"
            >
              + New machine
            </button>
          )}
        </div>
      )}
      {all.length === 0 ? (
        <EmptyState icon="machines" title="No machines yet">
          <p>A machine is a QEMU virtual machine or a systemd-nspawn container started from an image; it shows up here live, with its state and console.</p>
          <p>
            Press “New machine” above (build the <strong>busybox</strong> image on the Images page first), or from a terminal:{' '}
            <Cmd>hangar create web-1 --image busybox</Cmd>
          </p>
        </EmptyState>
      ) : (
        <>
          <MachineToolbar view={view} onChange={setView} tags={tags} shown={shown.length} total={all.length} />
          {canSelect && selectedMachines.length > 0 && <BulkBar selected={selectedMachines} onClear={() => setSelected(new Set())} />}
          <div className="overflow-x-auto rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/40">
            <table className="w-full text-left text-sm">
              <thead className="border-b border-zinc-200 text-xs text-zinc-600 uppercase dark:border-zinc-800 dark:text-zinc-400">
                <tr>
                  <th className="w-8 py-2 pr-1 pl-3">
                    {canSelect && (
                      <input
                        type="checkbox"
                        checked={allShownSelected}
                        ref={(el) => {
                          if (el) el.indeterminate = someShownSelected && !allShownSelected;
                        }}
                        onChange={(e) =>
                          setSelected((prev) => {
                            const next = new Set(prev);
                            for (const m of shown)
                              if (e.target.checked) next.add(m.id);
                              else next.delete(m.id);
                            return next;
                          })
                        }
                        aria-label={allShownSelected ? 'Select none' : `Select all ${shown.length} shown`}
                        className="h-4 w-4 accent-sky-600"
                      />
                    )}
                  </th>
                  {columns.map((c) => (
                    <th
                      key={c.label}
                      className={`px-3 py-2 font-medium ${c.className ?? ''}`}
                      aria-sort={c.key && view.sort === c.key ? (view.desc ? 'descending' : 'ascending') : undefined}
                    >
                      {c.key ? (
                        <button
                          type="button"
                          onClick={() =>
                            setView({ sort: c.key!, desc: view.sort === c.key ? !view.desc : c.key === 'cpu' || c.key === 'memory' || c.key === 'created' })
                          }
                          className="inline-flex items-center gap-1 uppercase hover:text-zinc-900 dark:hover:text-zinc-100"
                        >
                          {c.label}
                          <span aria-hidden="true" className={view.sort === c.key ? '' : 'invisible'}>
                            {view.desc ? '↓' : '↑'}
                          </span>
                        </button>
                      ) : (
                        c.label
                      )}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((m) => (
                  <MachineRow key={m.id} m={m} selectable={canSelect} selected={selected.has(m.id)} onSelect={onSelect} onTag={onTag} />
                ))}
              </tbody>
            </table>
            {shown.length === 0 && <p className="px-4 py-8 text-center text-sm text-zinc-600 dark:text-zinc-400">No machine matches these filters.</p>}
          </div>
        </>
      )}
    </div>
  );
}
