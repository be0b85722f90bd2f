'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError } from '@/lib/api-client';
import type { Machine } from '@/lib/contracts/machines';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** A machine's tags: remove one with its ×, add several at once ("web, ci"). */
export function TagEditor({ machine, canChange }: { machine: Machine; canChange: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (tags: string[]) => api.machines.update(machine.id, { tags }),
    onSuccess: (m) => {
      qc.setQueryData(keys.machine(m.id), m);
      qc.setQueryData(keys.machine(m.name), m);
      setText('');
      setError(null);
    },
    onError: (err) => (err instanceof ApiError && err.issues ? setError(err.issues.map((i) => i.message).join('; ')) : toast('error', err.message)),
  });
  const add = (e: FormEvent) => {
    e.preventDefault();
    const more = text
      .toLowerCase()
      .split(/[\s,]+/)
      .filter(Boolean);
    if (more.length) save.mutate([...new Set([...machine.tags, ...more])]);
  };
  return (
    <section aria-labelledby="tags-title" className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40">
      <h2 id="tags-title" className="text-sm font-semibold">
        Tags
      </h2>
      <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
        Labels to filter the machine list by (tag:web), and to act on several machines together (<code>hangar stop --tag web</code>).
      </p>
      <ul className="mt-3 flex flex-wrap gap-2" aria-label="Tags of this machine">
        {machine.tags.length === 0 && <li className="text-sm text-zinc-600 dark:text-zinc-400">No tags.</li>}
        {machine.tags.map((t) => (
          <li key={t} className="inline-flex items-center gap-1 rounded-full bg-zinc-100 py-0.5 pr-1 pl-2.5 text-sm dark:bg-zinc-800">
            {t}
            {canChange && (
              <button
                type="button"
                onClick={() => save.mutate(machine.tags.filter((x) => x !== t))}
                disabled={save.isPending}
                aria-label={`Remove tag ${t}`}
                className="rounded-full px-1.5 text-zinc-600 hover:bg-zinc-200 hover:text-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-700"
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {canChange && (
        <form onSubmit={add} className="mt-3 flex flex-wrap items-center gap-2">
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-label="New tags"
            placeholder="web, ci"
            className="w-48 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
          <button
            type="submit"
            disabled={save.isPending || !text.trim()}
            className={`rounded-md border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-50 disabled:opacity-50
              dark:border-zinc-700 dark:hover:bg-zinc-800`}
          >
            Add
          </button>
          {error && (
            <span role="alert" className="text-xs text-red-600 dark:text-red-400">
              {error}
            </span>
          )}
        </form>
      )}
    </section>
  );
}
