'use client';

import { useEffect, useRef, useState } from 'react';
import type { PasteCheck } from '@/lib/console-text';

const btn = 'rounded px-1.5 py-0.5 hover:bg-zinc-200 disabled:opacity-40 dark:hover:bg-zinc-800';

/** Find in scrollback: Enter for the next match, Shift+Enter for the previous, Escape to close. */
export function ConsoleSearch({
  onFind,
  onClose,
  results,
}: {
  onFind: (q: string, dir: 'next' | 'prev') => void;
  onClose: () => void;
  results: { index: number; count: number } | null;
}) {
  const [q, setQ] = useState('');
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="flex items-center gap-2 border-b border-zinc-200 px-3 py-1.5 text-xs dark:border-zinc-800" role="search">
      <input
        ref={ref}
        value={q}
        aria-label="Find in console"
        placeholder="Find in scrollback"
        className="w-56 rounded border border-zinc-300 bg-white px-2 py-0.5 text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
        onChange={(e) => {
          setQ(e.target.value);
          onFind(e.target.value, 'next');
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onFind(q, e.shiftKey ? 'prev' : 'next');
          if (e.key === 'Escape') onClose();
        }}
      />
      <span data-testid="search-results" className="tabular-nums text-zinc-500 dark:text-zinc-400">
        {q && results ? (results.count ? `${results.index + 1} of ${results.count}` : 'no matches') : ''}
      </span>
      <button type="button" className={btn} onClick={() => onFind(q, 'prev')} aria-label="Previous match">
        ↑
      </button>
      <button type="button" className={btn} onClick={() => onFind(q, 'next')} aria-label="Next match">
        ↓
      </button>
      <button type="button" className={`${btn} ml-auto`} onClick={onClose} aria-label="Close find">
        ✕
      </button>
    </div>
  );
}

export interface MenuItem {
  label: string;
  hint?: string;
  disabled?: boolean;
  run: () => void;
}

/** The terminal's right-click menu, at the pointer; closes on a click elsewhere or Escape. */
export function ConsoleMenu({ x, y, items, onClose }: { x: number; y: number; items: MenuItem[]; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) onClose();
    };
    window.addEventListener('mousedown', close);
    window.addEventListener('keydown', close);
    return () => {
      window.removeEventListener('mousedown', close);
      window.removeEventListener('keydown', close);
    };
  }, [onClose]);
  // Kept inside the window.
  const left = Math.min(x, window.innerWidth - 230);
  const top = Math.min(y, window.innerHeight - 40 * items.length);
  return (
    <div
      ref={ref}
      role="menu"
      aria-label="Console"
      className="fixed z-50 w-56 rounded-md border border-zinc-200 bg-white p-1 text-sm shadow-xl dark:border-zinc-700 dark:bg-zinc-900"
      style={{ left, top }}
    >
      {items.map((it) => (
        <button
          key={it.label}
          type="button"
          role="menuitem"
          disabled={it.disabled}
          onClick={() => {
            onClose();
            it.run();
          }}
          className={`flex w-full items-center justify-between rounded px-2 py-1 text-left text-zinc-800 hover:bg-zinc-100
            focus:bg-zinc-100 focus:outline-none disabled:opacity-40 dark:text-zinc-100 dark:hover:bg-zinc-800
            dark:focus:bg-zinc-800`}
        >
          {it.label}
          {it.hint && <span className="text-xs text-zinc-500 dark:text-zinc-400">{it.hint}</span>}
        </button>
      ))}
    </div>
  );
}

/** A large or many-line paste asks first: each line would run as a command. */
export function PasteConfirm({ check, onPaste, onCancel }: { check: PasteCheck; onPaste: () => void; onCancel: () => void }) {
  const ok = useRef<HTMLButtonElement>(null);
  useEffect(() => ok.current?.focus(), []);
  return (
    <div className="absolute inset-0 z-30 flex items-center justify-center bg-zinc-950/60 p-4" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <div
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="paste-title"
        className={`w-full max-w-lg rounded-lg border border-zinc-200 bg-white p-4 text-sm text-zinc-800 shadow-xl
          dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
      >
        <h2 id="paste-title" className="font-semibold">
          Paste {check.lines} {check.lines === 1 ? 'line' : 'lines'} ({check.bytes.toLocaleString()} bytes)?
        </h2>
        <p className="mt-1 text-zinc-600 dark:text-zinc-400">Each line may run as a command as soon as it arrives.</p>
        <pre tabIndex={0} aria-label="What will be pasted" className="mt-3 max-h-40 overflow-auto rounded bg-zinc-100 p-2 font-mono text-xs dark:bg-zinc-950">
          {check.preview}
        </pre>
        <div className="mt-4 flex justify-end gap-2">
          <button type="button" onClick={onCancel} className="rounded-md px-3 py-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800">
            Cancel
          </button>
          <button ref={ok} type="button" onClick={onPaste} className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white hover:bg-sky-600">
            Paste
          </button>
        </div>
      </div>
    </div>
  );
}
