'use client';

import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import type { Snapshot } from '@/lib/contracts/snapshots';
import { formatAge, formatBytes } from '@/lib/format';
import { hasRole } from '@/lib/roles';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { EmptyState } from '@/components/ui/empty-state';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { BackupButton } from './backup-button';
import { ForkLinkButton } from '@/components/fork-links/fork-link-button';
import { CompareButton } from './compare-button';
import { HotToggle } from './hot-toggle';
import { SnapshotCompare } from './snapshot-compare';

/** The snapshot tree, like a git graph: each node with its kind, pause, size and the machines on it. */
export function SnapshotTree({ machineId }: { machineId?: string }) {
  // A page at a time, oldest first: every page only adds nodes below ones already shown, so a big tree grows as it loads.
  const q = useInfiniteQuery(queries(api).snapshotPages());
  const me = useQuery(queries(api).me()).data;
  // Which snapshots download as an archive: their driver's description says.
  const drivers = useQuery(queries(api).drivers()).data;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  if (q.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading snapshots…</p>;
  if (q.error) return <p className="text-sm text-red-600">Could not load snapshots: {q.error.message}</p>;
  const loaded = q.data.pages.flatMap((p) => p.items);
  const all = machineId ? treeOf(loaded, machineId) : loaded;
  if (all.length === 0) {
    return (
      <EmptyState icon="snapshots" title="No snapshots yet">
        <p>
          Checkpoint a running machine (its page has the button, or <code>hangar checkpoint NAME</code>): memory, devices and disk are saved while the guest
          pauses for a fraction of a second.
        </p>
      </EmptyState>
    );
  }
  const kids = new Map<string | null, Snapshot[]>();
  const ids = new Set(all.map((s) => s.id));
  for (const s of all) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : null;
    kids.set(parent, [...(kids.get(parent) ?? []), s]);
  }
  const canOperate = !!me && hasRole(me.role, 'operator');
  const rows: { s: Snapshot; depth: number }[] = [];
  const walk = (p: string | null, depth: number) => (kids.get(p) ?? []).forEach((s) => (rows.push({ s, depth }), walk(s.id, depth + 1)));
  walk(null, 0);
  const total = all.filter((s) => s.state === 'complete').reduce((a, s) => a + s.sizeBytes, 0);
  const treeBytes = (s: Snapshot): number => s.sizeBytes + (kids.get(s.id) ?? []).reduce((a, k) => a + treeBytes(k), 0);
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          {all.length} snapshot{all.length === 1 ? '' : 's'} in {kids.get(null)?.length ?? 0} tree{kids.get(null)?.length === 1 ? '' : 's'} ·{' '}
          {formatBytes(total)} on disk
        </p>
        {canOperate && !machineId && <TreeTools />}
      </div>
      <ul
        className={`divide-y divide-zinc-200 overflow-hidden rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800
          dark:border-zinc-800 dark:bg-zinc-900`}
        data-testid="snapshot-tree"
      >
        {rows.map(({ s, depth }) => (
          <SnapshotRow
            key={s.id}
            s={s}
            depth={depth}
            canOperate={canOperate}
            exportable={!!drivers?.find((d) => d.kind === s.driver)?.archiveExport.available}
            treeBytes={depth === 0 && kids.has(s.id) ? treeBytes(s) : null}
          />
        ))}
      </ul>
      <SnapshotCompare />
    </div>
  );
}

const toolButton =
  'rounded-md border border-zinc-300 px-2.5 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800';

/** Import an archive made by Download (or hangar snapshot export); collect unreferenced files. */
function TreeTools() {
  const toast = useToast();
  const file = useRef<HTMLInputElement>(null);
  const upload = useMutation({
    mutationFn: (f: File) => api.snapshots.importArchive(f),
    onSuccess: (s) => toast('info', `Imported "${s.label}"`),
    onError: (err) => toast('error', err.message),
  });
  const gc = useMutation({
    mutationFn: () => api.snapshots.gc(),
    onSuccess: (r) =>
      toast(
        'info',
        `Collected ${r.removedFiles} file${r.removedFiles === 1 ? '' : 's'}, ${r.removedSnapshots} failed ` +
          `snapshot${r.removedSnapshots === 1 ? '' : 's'}: ${formatBytes(r.freedBytes)} freed`,
      ),
    onError: (err) => toast('error', err.message),
  });
  return (
    <span className="flex items-center gap-1.5">
      <input
        ref={file}
        type="file"
        accept=".tar,application/x-tar"
        className="hidden"
        aria-label="Snapshot archive to import"
        onChange={(e) => e.target.files?.[0] && upload.mutate(e.target.files[0])}
      />
      <button type="button" className={toolButton} disabled={upload.isPending} onClick={() => file.current?.click()}>
        {upload.isPending ? 'Importing…' : 'Import archive'}
      </button>
      <button
        type="button"
        className={toolButton}
        disabled={gc.isPending}
        title="Remove disk layers and files no machine or snapshot uses, and failed snapshots"
        onClick={() => gc.mutate()}
      >
        Collect garbage
      </button>
    </span>
  );
}

/** A machine's own tree: every node it or its snapshots' descendants touch, plus their ancestors. */
function treeOf(all: Snapshot[], machineId: string): Snapshot[] {
  const byId = new Map(all.map((s) => [s.id, s]));
  const keep = new Set<string>();
  for (const s of all) {
    if (s.machineId !== machineId && !s.machines.some((m) => m.id === machineId)) continue;
    for (let cur: Snapshot | undefined = s; cur && !keep.has(cur.id); cur = cur.parentId ? byId.get(cur.parentId) : undefined) keep.add(cur.id);
  }
  return all.filter((s) => keep.has(s.id));
}

function SnapshotRow(props: { s: Snapshot; depth: number; canOperate: boolean; exportable: boolean; treeBytes: number | null }) {
  const { s, depth, canOperate, exportable, treeBytes } = props;
  const confirm = useConfirm();
  const toast = useToast();
  const [count, setCount] = useState(1);
  const act = useMutation({
    mutationFn: (what: 'restore' | 'fork' | 'delete') =>
      what === 'restore'
        ? api.snapshots.restore(s.id, {})
        : what === 'fork'
          ? api.snapshots.fork(s.id, { count })
          : api.snapshots.remove(s.id).then(() => null),
    onSuccess: (job) => toast('info', job ? `${job.title}: started` : 'Snapshot deleted'),
    onError: (err) => toast('error', err.message),
  });
  const ok = s.state === 'complete';
  return (
    <li className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-2.5 text-sm" data-testid="snapshot-row" data-label={s.label}>
      <div className="min-w-[16rem] flex-1 space-y-1" style={{ paddingLeft: `${depth * 1.25}rem` }}>
        <div className="flex min-w-0 items-center gap-2">
          <span aria-hidden="true" className={`h-2.5 w-2.5 shrink-0 rounded-full ${s.kind === 'live' ? 'bg-sky-500' : 'bg-zinc-400'}`} />
          <span className="truncate font-medium" title={s.label}>
            {s.label}
          </span>
          <span className="shrink-0 rounded bg-zinc-100 px-1.5 py-0.5 text-xs text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">{s.kind}</span>
          {s.undoPoint && (
            <span
              className="shrink-0 rounded bg-violet-100 px-1.5 py-0.5 text-xs text-violet-800 dark:bg-violet-950 dark:text-violet-300"
              title="Taken by the machine's undo ring: pruned as the ring turns"
            >
              undo point
            </span>
          )}
          {s.state !== 'complete' && (
            <span className="shrink-0 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-800 dark:bg-amber-950 dark:text-amber-300">{s.state}</span>
          )}
        </div>
        <div className="flex flex-wrap items-center gap-x-2 gap-y-1 pl-[1.125rem] text-xs text-zinc-500 dark:text-zinc-400">
          <span>
            {s.pauseMs !== null && `paused ${s.pauseMs} ms · `}
            {formatBytes(s.sizeBytes)}
            {treeBytes !== null && ` (tree ${formatBytes(treeBytes)})`} · {s.machineName ?? 'machine gone'} · {formatAge(s.createdAt)}
          </span>
          {s.machines.map((m) => (
            <Link
              key={m.id}
              href={`/machines/${m.name}`}
              title={`${m.name} runs on this snapshot`}
              className="rounded-full border border-emerald-300 px-2 py-0.5 text-emerald-700 dark:border-emerald-800 dark:text-emerald-400"
            >
              {m.name}
            </Link>
          ))}
        </div>
      </div>
      {canOperate && ok && (
        <span className="flex items-center gap-1.5">
          <button
            type="button"
            disabled={act.isPending || !s.machineName}
            title={s.machineName ? `Put ${s.machineName} back to this snapshot (its current state is checkpointed first)` : 'The machine is gone: fork instead'}
            onClick={async () =>
              (await confirm({
                title: `Restore ${s.machineName} to "${s.label}"?`,
                body: 'Its current state is checkpointed first, so nothing is lost.',
                confirmLabel: 'Restore',
              })) && act.mutate('restore')
            }
            className={`rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50
              dark:border-zinc-700 dark:hover:bg-zinc-800`}
          >
            Restore
          </button>
          <input
            aria-label="Number of forks"
            type="number"
            min={1}
            max={20}
            value={count}
            onChange={(e) => setCount(Math.max(1, Math.min(20, Number(e.target.value) || 1)))}
            className="w-12 rounded-md border border-zinc-300 bg-white px-1.5 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900"
          />
          <button
            type="button"
            disabled={act.isPending}
            onClick={() => act.mutate('fork')}
            className={`rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50
              dark:border-zinc-700 dark:hover:bg-zinc-800`}
          >
            Fork
          </button>
          <ForkLinkButton source={{ snapshot: s.id }} what={`"${s.label}"`} />
          <CompareButton id={s.id} label={s.label} />
          <HotToggle snap={s} />
          {exportable && <BackupButton snapshotId={s.id} />}
          {exportable && (
            <a
              href={`/api/snapshots/${s.id}/export`}
              download
              className="rounded-md px-2 py-1 text-xs font-medium text-zinc-600 hover:bg-zinc-50 dark:text-zinc-300 dark:hover:bg-zinc-800"
              title="One archive file (memory, devices, disk) to import on another host"
            >
              Download
            </a>
          )}
          <button
            type="button"
            disabled={act.isPending}
            onClick={async () =>
              (await confirm({
                title: `Delete snapshot "${s.label}"?`,
                body: 'Its memory, device state and frozen disk layer are removed.',
                confirmLabel: 'Delete',
                danger: true,
              })) && act.mutate('delete')
            }
            className="rounded-md px-2 py-1 text-xs font-medium text-red-600 hover:bg-red-50 disabled:opacity-50 dark:text-red-400 dark:hover:bg-red-950/40"
          >
            Delete
          </button>
        </span>
      )}
    </li>
  );
}
