'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { createApiClient } from '@/lib/api-client';
import { Console } from '@/components/console/console';
import { DisplayView } from '@/components/display/display-view';
import { StateBadge } from '@/components/machines/state-badge';
import { SharedPageHeader } from './shared-page-header';

const TAB_ON = 'bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900';
const TAB_OFF = 'text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800';

/** The page a share link opens: the machine's console as the link allows, nothing else of Hangar. */
export function SharedConsole({ token }: { token: string }) {
  const client = useMemo(() => createApiClient({ baseUrl: '', share: token }), [token]);
  const info = useQuery({ queryKey: ['share', token], queryFn: () => client.shares.info(), retry: false, refetchInterval: 15_000 });
  const [tab, setTab] = useState<'serial' | 'ssh'>('serial');
  if (info.isPending) return <p className="p-6 text-sm text-zinc-500 dark:text-zinc-400">Opening the shared console…</p>;
  if (info.error) {
    return (
      <main className="mx-auto max-w-lg p-8 text-center">
        <h1 className="text-lg font-semibold">This link does not open anything</h1>
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">It has expired or was revoked. Ask whoever sent it for a new one.</p>
      </main>
    );
  }
  const s = info.data;
  return (
    <main className="flex min-h-screen flex-col gap-3 p-4">
      <SharedPageHeader title={s.machine.name} badge={<StateBadge state={s.machine.state as never} />} label={s.label} expiresAt={s.expiresAt}>
        {s.role === 'operator' ? 'you can type here' : 'read-only: you can watch, not type'}
      </SharedPageHeader>
      {s.shell && (
        <div role="tablist" aria-label="Consoles" className="flex gap-1 text-sm">
          {(
            [
              ['serial', 'Console'],
              ['ssh', s.shell.label],
            ] as const
          ).map(([id, label]) => (
            <button
              key={id}
              type="button"
              role="tab"
              aria-selected={tab === id}
              onClick={() => setTab(id)}
              className={`rounded-lg px-3 py-1 ${tab === id ? TAB_ON : TAB_OFF}`}
            >
              {label}
            </button>
          ))}
        </div>
      )}
      {tab === 'ssh' && s.shell ? (
        s.machine.state === 'running' ? (
          <Console
            key="ssh"
            target={{ kind: 'machine', machineId: s.machine.id, channel: 'ssh' }}
            sessionKey={`share-ssh-${s.machine.id}`}
            share={token}
            className="h-[75vh]"
          />
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">The shell opens once the machine runs ({s.machine.state}).</p>
        )
      ) : (
        <Console
          key="serial"
          target={{ kind: 'machine', machineId: s.machine.id, channel: 'serial' }}
          sessionKey={`share-${s.machine.id}`}
          mode={s.role === 'operator' ? 'interactive' : 'readonly'}
          share={token}
          className="h-[75vh]"
        />
      )}
      {s.machine.display && s.machine.state === 'running' && (
        <section aria-label="Screen" className="space-y-1">
          <h2 className="text-sm font-medium">Screen (watch only)</h2>
          <DisplayView machine={s.machine} readOnly share={token} className="h-[60vh]" />
        </section>
      )}
    </main>
  );
}
