'use client';

import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { queries } from '@/lib/queries';
import { safeNext } from '@/lib/safe-next';
import { api } from '@/components/ui/api';

/** "Sign in with NAME" for each provider, and why the last single sign-on failed (the server sends it back as ?sso_error=). */
export function SsoButtons() {
  const params = useSearchParams();
  const options = useQuery(queries(api).signInOptions()).data;
  const error = params.get('sso_error');
  // Where the person was going (a machine link sent by a teammate): the sign-in comes back there.
  const next = safeNext(params.get('next'));
  return (
    <div className="mb-4 space-y-3">
      {error && (
        <p role="alert" data-testid="sso-error" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950/50 dark:text-red-300">
          {error}
        </p>
      )}
      {options?.providers.map((p) => (
        // A full navigation (not the router): the provider's page is elsewhere.
        <a
          key={p.id}
          href={`/sso/${encodeURIComponent(p.id)}/start${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`}
          className={
            'block w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-center text-sm font-medium shadow-sm hover:bg-zinc-50 ' +
            'dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800'
          }
        >
          Sign in with {p.name}
        </a>
      ))}
      {!!options?.providers.length && (
        <p className="text-center text-xs text-zinc-500 dark:text-zinc-400">
          {options.localLogin ? 'or with a Hangar password:' : 'Password logins are off; the form below is for the break-glass admin.'}
        </p>
      )}
    </div>
  );
}
