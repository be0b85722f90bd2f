'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { ApiError, createApiClient } from '@/lib/api-client';
import { SharedConsole } from '@/components/console/shared-console';

const TITLES: Record<string, string> = {
  used_up: 'This link is used up',
  expired: 'This link has expired',
  revoked: 'This link was revoked',
  failed: 'Your fork did not start',
};

/**
 * The page a fork link opens: the opener's own fork (made now, or the one this browser got
 * before: a cookie brings it back), then its console through the share-link page. Refusals say
 * why: used up, expired, revoked, or a fork that did not start.
 */
export function ForkLinkOpen({ token }: { token: string }) {
  const client = useMemo(() => createApiClient({ baseUrl: '' }), []);
  // Opening makes a fork: once per page, not again on focus or reconnect (the cookie would bring the same one back anyway).
  const opened = useQuery({
    queryKey: ['forkLinkOpen', token],
    queryFn: () => client.forkLinks.open(token),
    retry: false,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
  if (opened.isPending)
    return (
      <main className="mx-auto max-w-lg p-8 text-center" aria-busy="true">
        <h1 className="text-lg font-semibold">Starting your own copy…</h1>
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">A private fork of the machine is being made for you. This takes a few seconds.</p>
      </main>
    );
  if (opened.error) {
    const e = opened.error;
    const state = e instanceof ApiError ? e.issues?.find((i) => i.path === 'forkLink.state')?.message : undefined;
    return (
      <main className="mx-auto max-w-lg p-8 text-center" data-testid="fork-link-refused" data-state={state ?? 'error'}>
        <h1 className="text-lg font-semibold">{(state && TITLES[state]) ?? 'This link does not open anything'}</h1>
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">{e.message}</p>
      </main>
    );
  }
  const f = opened.data;
  return (
    <>
      <p className="border-b border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900 dark:border-sky-900 dark:bg-sky-950/50 dark:text-sky-200">
        {f.reopened ? 'Welcome back: this is' : 'This is'} your own fork{f.label ? ` of "${f.label}"` : ''}. It is destroyed at{' '}
        {new Date(f.expiresAt).toLocaleString()}.
      </p>
      <SharedConsole token={f.share} />
    </>
  );
}
