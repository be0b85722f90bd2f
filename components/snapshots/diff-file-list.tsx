'use client';

import { useState } from 'react';
import type { DiffEntry, DiffResult } from '@/lib/contracts/diff';
import { diffChanges } from '@/lib/contracts/diff';
import { formatBytes } from '@/lib/format';

const BADGE: Record<DiffEntry['change'], string> = {
  added: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300',
  removed: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300',
  changed: 'bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300',
};

const detail = (e: DiffEntry) => {
  const m = e.after ?? e.before!;
  if (e.change !== 'changed') return m.type === 'file' ? formatBytes(m.size) : m.type;
  return e.fields.map((f) => (f === 'mode' ? `mode ${e.before!.mode.toString(8)}→${e.after!.mode.toString(8)}` : f)).join(', ');
};

/** The compared files, filtered by text and by kind of change. */
export function DiffFileList({ result, selected, onSelect }: { result: DiffResult; selected: string | null; onSelect: (p: string) => void }) {
  const [text, setText] = useState('');
  const [shown, setShown] = useState<Set<DiffEntry['change']>>(new Set(diffChanges));
  const rows = result.entries.filter((e) => shown.has(e.change) && e.path.toLowerCase().includes(text.toLowerCase()));
  return (
    <div className="min-w-0 space-y-2">
      <input
        type="search"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="Filter paths"
        aria-label="Filter paths"
        className="w-full rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-950"
      />
      <div className="flex flex-wrap items-center gap-2">
        {diffChanges.map((c) => (
          <label key={c} className={`flex cursor-pointer items-center gap-1 rounded px-1.5 py-0.5 text-xs ${BADGE[c]}`}>
            <input
              type="checkbox"
              checked={shown.has(c)}
              onChange={(e) => setShown((s) => (e.target.checked ? new Set([...s, c]) : new Set([...s].filter((x) => x !== c))))}
            />
            {c} {result.counts[c]}
          </label>
        ))}
      </div>
      <ul
        className="max-h-[28rem] divide-y divide-zinc-100 overflow-auto rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
        data-testid="diff-files"
      >
        {rows.map((e) => (
          <li key={e.path}>
            <button
              type="button"
              onClick={() => onSelect(e.path)}
              aria-current={selected === e.path}
              className={`flex w-full items-center gap-2 px-3 py-1.5 text-left text-sm hover:bg-zinc-50 dark:hover:bg-zinc-800 ${
                selected === e.path ? 'bg-sky-50 dark:bg-sky-950/60' : ''
              }`}
            >
              <span className={`w-16 shrink-0 rounded px-1.5 py-0.5 text-center text-xs ${BADGE[e.change]}`}>{e.change}</span>
              <span className="min-w-0 flex-1 truncate font-mono text-xs" title={e.path}>
                {e.path}
              </span>
              <span className="shrink-0 text-xs text-zinc-500 dark:text-zinc-400">{detail(e)}</span>
            </button>
          </li>
        ))}
        {rows.length === 0 && <li className="px-3 py-4 text-sm text-zinc-500">No files match.</li>}
      </ul>
      {result.truncated && <p className="text-xs text-zinc-500">The first {result.entries.length} changes are listed (hangar diff --limit shows more).</p>}
    </div>
  );
}
