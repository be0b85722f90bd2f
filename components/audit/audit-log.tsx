'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AuditEventInfo, AuditQuery } from '@/lib/contracts/audit';
import { formatAge } from '@/lib/format';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { EmptyState } from '@/components/ui/empty-state';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** What an event touched, in words: the target and the facts worth a glance. */
function about(e: AuditEventInfo): string {
  const d = { ...e.detail };
  delete d.tokenId;
  const facts = Object.entries(d)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return [e.targetKind && `${e.targetKind} ${e.targetId ?? ''}`, facts].filter(Boolean).join(' · ');
}

/** The audit log, newest first, filtered, a page at a time; exported as JSON lines with the same filter. */
export function AuditLog() {
  const [filter, setFilter] = useState<Omit<AuditQuery, 'before' | 'limit'>>({});
  const q = useInfiniteQuery({
    queryKey: keys.audit(filter),
    queryFn: ({ pageParam }) => api.audit.list({ ...filter, limit: 100, ...(pageParam ? { cursor: pageParam } : {}) }),
    initialPageParam: '',
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const events = q.data?.pages.flatMap((p) => p.items) ?? [];
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const v = (k: string) => String(f.get(k) ?? '').trim() || undefined;
    setFilter({ action: v('action'), actor: v('actor'), target: v('target') });
  }
  return (
    <div className="space-y-4">
      <form onSubmit={onSubmit} aria-label="Filter audit events" className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Action (or prefix, e.g. machine.)</span>
          <input name="action" placeholder="user." pattern="[a-z_.]{1,64}" className={field} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Who (username or token id)</span>
          <input name="actor" placeholder="alice" maxLength={64} className={field} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Target id</span>
          <input name="target" placeholder="mch_…" maxLength={64} className={field} />
        </label>
        <button type="submit" className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600">
          Filter
        </button>
        <a
          href={api.audit.exportUrl(filter)}
          download
          className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Export JSON lines
        </a>
      </form>
      {q.isSuccess && events.length === 0 ? (
        <EmptyState icon="audit" title="No events match">
          Change the filter, or do something worth recording.
        </EmptyState>
      ) : (
        <div
          tabIndex={0}
          role="region"
          aria-label="Audit events"
          className="overflow-x-auto rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900"
        >
          <table className="w-full text-left text-sm">
            <thead className="border-b border-zinc-200 text-xs text-zinc-500 dark:text-zinc-400 dark:border-zinc-800">
              <tr>
                <th className="px-3 py-2 font-medium">When</th>
                <th className="px-3 py-2 font-medium">Who</th>
                <th className="px-3 py-2 font-medium">Action</th>
                <th className="px-3 py-2 font-medium">What</th>
                <th className="px-3 py-2 font-medium">From</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {events.map((e) => (
                <tr key={e.id} data-action={e.action}>
                  <td className="px-3 py-1.5 whitespace-nowrap text-zinc-500 dark:text-zinc-400" title={new Date(e.ts).toISOString()}>
                    {formatAge(e.ts)}
                  </td>
                  <td className="px-3 py-1.5 whitespace-nowrap">
                    {e.actorName ?? '—'}
                    {e.actorKind !== 'user' && (
                      <span className="ml-1 text-xs text-zinc-500 dark:text-zinc-400">
                        ({e.actorKind === 'token' ? `token ${String(e.detail.tokenId ?? '')}` : e.actorKind})
                      </span>
                    )}
                  </td>
                  <td className="px-3 py-1.5 font-mono text-xs whitespace-nowrap">{e.action}</td>
                  <td className="max-w-md truncate px-3 py-1.5 text-xs text-zinc-600 dark:text-zinc-400" title={JSON.stringify(e.detail)}>
                    {about(e)}
                  </td>
                  <td className="px-3 py-1.5 text-xs whitespace-nowrap text-zinc-500 dark:text-zinc-400">{e.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {q.hasNextPage && (
        <button
          type="button"
          onClick={() => void q.fetchNextPage()}
          disabled={q.isFetchingNextPage}
          className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          {q.isFetchingNextPage ? 'Loading…' : 'Older events'}
        </button>
      )}
    </div>
  );
}
