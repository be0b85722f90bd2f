'use client';

import { useQuery } from '@tanstack/react-query';
import { usePathname, useRouter } from 'next/navigation';
import { useEffect, type ReactNode } from 'react';
import { ApiError } from '@/lib/api-client';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';

/** Sends anonymous visitors to /login?next=<where they were going>; renders children once signed in. */
export function AuthGate({ children }: { children: ReactNode }) {
  const me = useQuery(queries(api).me());
  const router = useRouter();
  const pathname = usePathname();
  const unauthorized = me.error instanceof ApiError && me.error.status === 401;

  useEffect(() => {
    if (unauthorized) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [unauthorized, router, pathname]);

  if (me.data) return <>{children}</>;
  if (me.error && !unauthorized) {
    return <p className="p-8 text-sm text-red-600">Hangar did not answer: {me.error.message}</p>;
  }
  return (
    <p className="p-8 text-sm text-zinc-500 dark:text-zinc-400" aria-busy="true">
      Loading…
    </p>
  );
}
