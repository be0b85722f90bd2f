'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { setPick, useComparePick } from './compare-store';
import { DiffFileList } from './diff-file-list';
import { TextDiffView } from './text-diff-view';

/** Two snapshots compared: files added, removed and changed, and the text diff of the one picked. */
export function SnapshotCompare() {
  const { a, b } = useComparePick();
  const [path, setPath] = useState<string | null>(null);
  const q = useQuery({ ...queries(api).snapshotDiff(a ?? '', b ?? ''), enabled: !!a && !!b });
  if (!a) return null;
  if (!b)
    return (
      <p className="rounded-lg border border-dashed border-sky-300 px-4 py-2 text-sm text-sky-800 dark:border-sky-800 dark:text-sky-300" role="status">
        Base picked: click Compare on another snapshot to see what changed.
      </p>
    );
  const d = q.data;
  return (
    <section className="space-y-3 rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900" aria-label="Snapshot comparison">
      <header className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 className="text-base font-semibold">
            {d ? (
              <>
                {d.a.label} <span className="text-zinc-400">→</span> {d.b.label}
              </>
            ) : (
              'Comparing…'
            )}
          </h2>
          {d && (
            <p className="text-xs text-zinc-500 dark:text-zinc-400">
              {d.counts.added} added · {d.counts.removed} removed · {d.counts.changed} changed · read from{' '}
              {d.method === 'layers' ? 'container layers' : 'the VM disk'} in {(d.elapsedMs / 1000).toFixed(2)} s
              {d.walked.skippedLayers ? ` (${d.walked.skippedLayers} shared layer${d.walked.skippedLayers === 1 ? '' : 's'} not read)` : ''}
              {!d.sameImage && ` · different images: ${d.a.image}, ${d.b.image}`}
            </p>
          )}
        </div>
        <span className="flex gap-1.5">
          <button
            type="button"
            onClick={() => (setPath(null), setPick({ a: b, b: a }))}
            className="rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Swap
          </button>
          <button
            type="button"
            onClick={() => (setPath(null), setPick({ a: null, b: null }))}
            className="rounded-md px-2 py-1 text-xs font-medium text-zinc-600 hover:bg-zinc-50 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            Close
          </button>
        </span>
      </header>
      {q.isPending && <p className="text-sm text-zinc-500">Reading both snapshots…</p>}
      {q.error && <p className="text-sm text-red-600 dark:text-red-400">Could not compare: {q.error.message}</p>}
      {d && (
        <div className="grid gap-3 lg:grid-cols-[minmax(18rem,2fr)_3fr]">
          <DiffFileList result={d} selected={path} onSelect={setPath} />
          {path ? (
            <TextDiffView sides={{ a, b }} path={path} />
          ) : (
            <p className="self-start rounded-lg bg-zinc-50 p-4 text-sm text-zinc-500 dark:bg-zinc-950 dark:text-zinc-400">
              Pick a file to see its changes (text files up to 64 KiB).
            </p>
          )}
        </div>
      )}
    </section>
  );
}
