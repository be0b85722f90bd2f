'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { queries } from '@/lib/queries';
import { hasRole } from '@/lib/roles';
import { api } from '@/components/ui/api';
import { Console } from '@/components/console/console';
import { EmptyState } from '@/components/ui/empty-state';
import { StateBadge } from '@/components/machines/state-badge';

/** A machine's serial console on a page of its own (the link /machines/NAME/console). */
export function MachineConsole({ machineRef }: { machineRef: string }) {
  const q = useQuery(queries(api).machine(machineRef));
  const access = useQuery(queries(api).access(machineRef)).data;
  if (q.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>;
  if (q.error) {
    return (
      <EmptyState icon="machines" title="No such machine here">
        <p>It does not exist, or you have no access to it. Ask its owner for access.</p>
      </EmptyState>
    );
  }
  const m = q.data;
  const live = m.state === 'running' || m.state === 'paused' || m.state === 'starting';
  return (
    <div className="flex h-[calc(100vh-6rem)] flex-col gap-3">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <Link href={`/machines/${m.name}`} className="text-xl font-semibold tracking-tight hover:underline">
          {m.name}
        </Link>
        <StateBadge state={m.state} />
        <span className="text-xs text-zinc-500 dark:text-zinc-400">
          serial console{access && !hasRole(access.role, 'operator') ? ' · read-only for you' : ''}
        </span>
      </header>
      {live ? (
        <Console target={{ kind: 'machine', machineId: m.id, channel: 'serial' }} sessionKey={`serial-${m.id}`} title={m.name} className="min-h-0 flex-1" />
      ) : (
        <p className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center text-sm text-zinc-500 dark:text-zinc-400 dark:border-zinc-700">
          {m.name} is {m.state}: the console is live while it runs.
        </p>
      )}
    </div>
  );
}
