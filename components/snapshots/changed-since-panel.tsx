'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { DiffFileList } from './diff-file-list';
import { TextDiffView } from './text-diff-view';

/** "What changed since": the machine's files now against the snapshot it runs on (its last checkpoint), read on request. */
export function ChangedSincePanel({ m }: { m: Pick<Machine, 'id' | 'name' | 'snapshotId'> }) {
  const [open, setOpen] = useState(false);
  const [path, setPath] = useState<string | null>(null);
  const q = useQuery({ ...queries(api).machineDiff(m.id), enabled: open });
  if (!m.snapshotId) return null;
  const d = q.data;
  return (
    <section className="space-y-3 rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900" aria-label="What changed since">
      <header className="flex flex-wrap items-center justify-between gap-2">
        <div>
          <h2 className="text-base font-semibold">What changed since the last checkpoint</h2>
          {d && (
            <p className="text-xs text-zinc-500 dark:text-zinc-400">
              Since “{d.a.label}”: {d.counts.added} added · {d.counts.removed} removed · {d.counts.changed} changed ({(d.elapsedMs / 1000).toFixed(2)} s)
            </p>
          )}
        </div>
        <button
          type="button"
          onClick={() => (open ? void q.refetch() : setOpen(true))}
          disabled={q.isFetching}
          className={`rounded-md border border-zinc-300 px-2.5 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50
            dark:border-zinc-700 dark:hover:bg-zinc-800`}
        >
          {q.isFetching ? 'Reading…' : open ? 'Refresh' : 'Show changes'}
        </button>
      </header>
      {q.error && <p className="text-sm text-red-600 dark:text-red-400">{q.error.message}</p>}
      {d && (
        <div className="grid gap-3 lg:grid-cols-[minmax(18rem,2fr)_3fr]">
          <DiffFileList result={d} selected={path} onSelect={setPath} />
          {path && <TextDiffView sides={{ machine: m.id }} path={path} />}
        </div>
      )}
    </section>
  );
}
