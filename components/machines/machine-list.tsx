'use client';

import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { applyView, paramsFromView, tagCounts, viewFromParams, type MachineView } from '@/lib/machine-filter';
import { hasRole } from '@/lib/roles';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { BulkBar } from '@/components/machines/bulk-bar';
import { Cmd, EmptyState } from '@/components/ui/empty-state';
import { liveStats } from '@/components/overview/live-stats';
import { MachineTable } from '@/components/machines/machine-table';
import { MachineToolbar } from '@/components/machines/machine-toolbar';
import { NewMachineForm } from '@/components/machines/new-machine-form';
import { AdoptForm } from '@/components/machines/adopt-form';
import { replaceQuery } from '@/components/ui/url-query';

/** Machines, searched, filtered, sorted (the view lives in the URL), selected for bulk actions, with live sparklines. */
export function MachineList() {
  const machines = useQuery(queries(api).machines());
  const me = useQuery(queries(api).me()).data;
  const params = useSearchParams();
  const view = useMemo(() => viewFromParams(new URLSearchParams(params.toString())), [params]);
  // ?new=1 (the palette's New machine, the n key from another page) opens the form.
  const [creating, setCreating] = useState<'new' | 'adopt' | null>(() => (params.get('new') === '1' ? 'new' : null));
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const lastClicked = useRef<string | null>(null);
  const canCreate = !!me && hasRole(me.role, 'operator');
  // A driver that adopts existing machines over SSH, when this host has it.
  const adopter = useQuery({ ...queries(api).drivers(), enabled: canCreate }).data?.find((d) => d.adopt.available && d.available);
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
  const onSelectAll = useCallback(
    (on: boolean) =>
      setSelected((prev) => {
        const next = new Set(prev);
        for (const m of shownRef.current)
          if (on) next.add(m.id);
          else next.delete(m.id);
        return next;
      }),
    [],
  );

  if (machines.isPending) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Loading machines…</p>;
  if (machines.error) return <p className="text-sm text-red-600">Could not load machines: {machines.error.message}</p>;
  return (
    <div className="space-y-4">
      {canCreate && (
        <div className="rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/40">
          {creating === 'new' ? (
            <div className="p-4">
              <NewMachineForm onDone={() => setCreating(null)} />
            </div>
          ) : creating === 'adopt' && adopter ? (
            <div className="p-4">
              <AdoptForm driver={adopter} onDone={() => setCreating(null)} />
            </div>
          ) : (
            <div className="flex items-stretch">
              <button
                type="button"
                onClick={() => setCreating('new')}
                data-hotkey-new
                className={`min-w-0 flex-1 ${adopter ? 'rounded-l-xl' : 'rounded-xl'} px-4 py-3 text-left text-sm font-medium text-sky-700 hover:bg-sky-50/60
                  dark:text-sky-300 dark:hover:bg-sky-950/30`}
              >
                + New machine
              </button>
              {adopter && (
                <button
                  type="button"
                  onClick={() => setCreating('adopt')}
                  title="Register a server or VM that runs already, reached over SSH (hangar adopt)"
                  className={`shrink-0 rounded-r-xl border-l border-zinc-200 px-4 py-3 text-sm text-zinc-700 hover:bg-zinc-50 dark:border-zinc-800
                    dark:text-zinc-300 dark:hover:bg-zinc-800/60`}
                >
                  Adopt over SSH…
                </button>
              )}
            </div>
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
          <MachineTable
            shown={shown}
            selected={selected}
            selectable={canSelect}
            view={view}
            setView={setView}
            onSelect={onSelect}
            onSelectAll={onSelectAll}
            onTag={onTag}
            nodes={machines.data?.some((m) => m.node) ?? false}
          />
          {/* Below the rows and stuck to the bottom of the window: in a long list the selection is made far from the top. */}
          {canSelect && selectedMachines.length > 0 && (
            <div className="sticky bottom-3 z-20 rounded-xl bg-white shadow-lg dark:bg-zinc-950">
              <BulkBar selected={selectedMachines} onClear={() => setSelected(new Set())} />
            </div>
          )}
        </>
      )}
    </div>
  );
}
