'use client';

import { useEffect, useId, useMemo, useState } from 'react';
import { fuzzyScore } from '@/lib/fuzzy';
import { Modal } from '@/components/ui/modal';

export interface Command {
  id: string;
  group: string;
  label: string;
  /** Shown on the right: a state, a shortcut. */
  hint?: string;
  /** More words it answers to (not shown). */
  keywords?: string;
  run: () => void;
}

const MAX_SHOWN = 50;

/**
 * Ctrl/Cmd+K: type to find any page, machine, snapshot or action, arrows to choose, Enter to
 * go. A WAI-ARIA combobox over a listbox, in a modal dialog (Esc closes, focus returns).
 */
export function CommandPalette({ commands, onClose }: { commands: Command[]; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const listId = useId();
  const shown = useMemo(() => {
    const scored = commands.map((c) => ({ c, s: fuzzyScore(query, `${c.label} ${c.keywords ?? ''}`) })).filter((x) => x.s !== null);
    // An empty query keeps the given order (pages first); a query ranks by how well each matches.
    if (query.trim()) scored.sort((a, b) => b.s! - a.s!);
    return scored.slice(0, MAX_SHOWN).map((x) => x.c);
  }, [commands, query]);
  const current = Math.min(active, shown.length - 1);

  useEffect(() => {
    document.getElementById(`${listId}-${current}`)?.scrollIntoView({ block: 'nearest' });
  }, [current, listId]);

  const choose = (c: Command | undefined) => {
    if (!c) return;
    onClose();
    c.run();
  };
  return (
    <Modal
      aria-label="Command palette"
      onClose={onClose}
      closeOnBackdrop
      className={`mx-auto mt-[12vh] mb-auto w-[calc(100%-2rem)] max-w-xl overflow-hidden rounded-xl border border-zinc-200
        bg-white p-0 text-zinc-900 shadow-2xl dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
    >
      <input
        autoFocus
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const n = shown.length || 1;
            setActive((current + (e.key === 'ArrowDown' ? 1 : -1) + n) % n);
          } else if (e.key === 'Enter') {
            e.preventDefault();
            choose(shown[current]);
          }
        }}
        role="combobox"
        aria-expanded="true"
        aria-controls={listId}
        aria-activedescendant={shown.length ? `${listId}-${current}` : undefined}
        aria-label="Search pages, machines, snapshots and actions"
        placeholder="Go to a page or machine, or run an action…"
        className={`w-full border-b border-zinc-200 bg-transparent px-4 py-3 text-base outline-none placeholder:text-zinc-500
          dark:border-zinc-700 dark:placeholder:text-zinc-400`}
      />
      <ul id={listId} role="listbox" aria-label="Results" className="max-h-[55vh] overflow-y-auto py-1">
        {shown.length === 0 && <li className="px-4 py-6 text-center text-sm text-zinc-600 dark:text-zinc-400">Nothing matches “{query}”.</li>}
        {shown.map((c, i) => (
          <li
            key={c.id}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === current}
            onMouseMove={() => i !== current && setActive(i)}
            onClick={() => choose(c)}
            className={
              `mx-1 flex cursor-pointer items-center gap-3 rounded-md px-3 py-2 text-sm ` +
              `${i === current ? 'bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-50' : ''}`
            }
          >
            <span className="w-20 shrink-0 text-xs text-zinc-600 dark:text-zinc-400">{c.group}</span>
            <span className="min-w-0 flex-1 truncate">{c.label}</span>
            {c.hint && <span className="shrink-0 text-xs text-zinc-600 dark:text-zinc-400">{c.hint}</span>}
          </li>
        ))}
      </ul>
      <p className="border-t border-zinc-200 px-4 py-2 text-xs text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
        ↑↓ to choose · Enter to go · Esc to close · ? for all shortcuts
      </p>
    </Modal>
  );
}
