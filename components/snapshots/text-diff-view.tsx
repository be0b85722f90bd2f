'use client';

import { useQuery } from '@tanstack/react-query';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';

const lineClass = (l: string) =>
  l.startsWith('+++') || l.startsWith('---')
    ? 'text-zinc-500 dark:text-zinc-400'
    : l.startsWith('+')
      ? 'bg-emerald-50 text-emerald-900 dark:bg-emerald-950/60 dark:text-emerald-200'
      : l.startsWith('-')
        ? 'bg-red-50 text-red-900 dark:bg-red-950/60 dark:text-red-200'
        : l.startsWith('@@')
          ? 'text-sky-700 dark:text-sky-400'
          : '';

/** Two snapshots, or a machine now against the snapshot it runs on. */
export type DiffSides = { a: string; b: string } | { machine: string };

/** One file's unified diff (small text files), or why it is not shown. */
export function TextDiffView({ sides, path }: { sides: DiffSides; path: string }) {
  const q = useQuery('machine' in sides ? queries(api).machineDiff(sides.machine, path) : queries(api).snapshotDiff(sides.a, sides.b, path));
  const f = q.data?.file;
  return (
    <div className="min-w-0 space-y-2" data-testid="text-diff">
      <p className="truncate font-mono text-xs font-medium" title={path}>
        {path}
      </p>
      {q.isPending && <p className="text-sm text-zinc-500">Reading…</p>}
      {q.error && <p className="text-sm text-red-600 dark:text-red-400">{q.error.message}</p>}
      {f && !f.unified && <p className="rounded-lg bg-zinc-50 p-4 text-sm text-zinc-500 dark:bg-zinc-950 dark:text-zinc-400">No text diff: {f.reason}.</p>}
      {f?.unified && (
        <pre className="max-h-[28rem] overflow-auto rounded-lg border border-zinc-200 bg-zinc-50 py-2 text-xs leading-5 dark:border-zinc-800 dark:bg-zinc-950">
          {f.unified.split('\n').map((l, i) => (
            <div key={i} className={`px-3 whitespace-pre ${lineClass(l)}`}>
              {l || ' '}
            </div>
          ))}
        </pre>
      )}
    </div>
  );
}
