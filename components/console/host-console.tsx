'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Console } from '@/components/console/console';
import { EmptyState } from '@/components/ui/empty-state';

const target = { kind: 'host-shell' } as const;

export function HostConsole() {
  const settings = useQuery(queries(api).settings());
  if (settings.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>;
  if (!settings.data?.consoleHostShell) {
    return (
      <EmptyState icon="console" title="The host shell is turned off">
        <p>It gives a root-level shell on this server, so it is off until an admin turns it on.</p>
        <p>
          <Link href="/settings" className="font-medium text-sky-700 underline dark:text-sky-400">
            Turn it on in Settings → Consoles
          </Link>
        </p>
      </EmptyState>
    );
  }
  return <Console target={target} sessionKey="host-shell" className="h-[calc(100vh-11rem)] min-h-80" />;
}
