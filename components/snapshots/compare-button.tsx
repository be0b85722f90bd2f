'use client';

import { toggle, useComparePick } from './compare-store';

/** A row's Compare button: the first picks the base, the next compares the base with this one. */
export function CompareButton({ id, label }: { id: string; label: string }) {
  const { a, b } = useComparePick();
  const role = a === id ? 'base' : b === id ? 'target' : null;
  const text = role === 'base' ? 'Base ✓' : role === 'target' ? 'Compared' : a ? 'Compare with base' : 'Compare';
  return (
    <button
      type="button"
      aria-pressed={role !== null}
      title={role === 'base' ? `"${label}" is the base: pick another snapshot to compare, or click to drop it` : `Compare "${label}"`}
      onClick={() => toggle(id)}
      className={`rounded-md border px-2 py-1 text-xs font-medium ${
        role
          ? 'border-sky-400 bg-sky-50 text-sky-800 dark:border-sky-700 dark:bg-sky-950 dark:text-sky-200'
          : 'border-zinc-300 hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800'
      }`}
    >
      {text}
    </button>
  );
}
