'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent } from 'react';
import { formatAge } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** Your password and the browsers logged in as you. */
export function AccountSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const sessions = useQuery(queries(api).sessions());
  const change = useMutation({
    mutationFn: (b: { current: string; password: string }) => api.auth.changePassword(b),
    onSuccess: () => {
      toast('info', 'Password changed; your other sessions were logged out.');
      void qc.invalidateQueries({ queryKey: keys.sessions() });
    },
    onError: (err) => toast('error', err.message),
  });
  const end = useMutation({
    mutationFn: (id: string) => api.auth.endSession(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.sessions() }),
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    if (f.get('password') !== f.get('again')) return toast('error', 'The new passwords differ.');
    change.mutate({ current: String(f.get('current')), password: String(f.get('password')) });
    e.currentTarget.reset();
  }
  return (
    <Section title="Your account" description="Change your password (your other sessions end), and see where you are logged in.">
      <form onSubmit={onSubmit} aria-label="Change password" className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Current password</span>
          <input name="current" type="password" required autoComplete="current-password" className={field} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">New password</span>
          <input name="password" type="password" required minLength={10} autoComplete="new-password" className={field} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Again</span>
          <input name="again" type="password" required minLength={10} autoComplete="new-password" className={field} />
        </label>
        <button
          type="submit"
          disabled={change.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Change password
        </button>
      </form>
      <h3 className="mt-5 text-sm font-medium">Sessions</h3>
      <ul className="mt-1 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Sessions">
        {sessions.data?.map((s) => (
          <li key={s.id} className="flex flex-wrap items-center gap-3 py-2">
            <span className="min-w-0 flex-1 truncate" title={s.userAgent ?? ''}>
              {s.userAgent ? s.userAgent.replace(/^Mozilla\/5\.0 /, '').slice(0, 80) : 'unknown client'}
              {s.current && (
                <span className="ml-2 rounded bg-emerald-100 px-1.5 py-0.5 text-xs text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-200">
                  this browser
                </span>
              )}
            </span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">{s.ip ?? 'unknown address'}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">active {formatAge(s.lastSeenAt)}</span>
            {!s.current && (
              <button
                type="button"
                onClick={() => end.mutate(s.id)}
                className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
              >
                Log out
              </button>
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}
