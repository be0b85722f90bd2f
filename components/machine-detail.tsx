'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import Link from 'next/link';
import { ApiError } from '@/lib/api-client';
import { formatAge } from '@/lib/format';
import { queries } from '@/lib/queries';
import { api } from './api';
import { Console } from './console';
import { SharePanel } from './share-panel';
import { GrantPanel } from './grant-panel';
import { RecordingsPanel } from './recordings-panel';
import { hasRole } from '@/lib/roles';
import { EmptyState } from './empty-state';
import { MachineActions } from './machine-actions';
import { SnapshotTree } from './snapshot-tree';
import { StateBadge } from './state-badge';

type Tab = 'serial' | 'ssh';

export function MachineDetail({ machineRef }: { machineRef: string }) {
  const q = useQuery(queries(api).machine(machineRef));
  const access = useQuery(queries(api).access(machineRef)).data;
  // Sharing and granting: global operators, and the machine's owners.
  const canShare = !!access && (hasRole(access.global, 'operator') || access.grant === 'owner');
  const [tab, setTab] = useState<Tab>('serial');
  if (q.isPending) return <p className="text-sm text-zinc-500">Loading…</p>;
  if (q.error) {
    // Missing and not-yours look the same, on purpose.
    if (q.error instanceof ApiError && q.error.status === 404) {
      return (
        <EmptyState icon="machines" title="No such machine here">
          <p>It does not exist, or you have no access to it. Ask its owner for access.</p>
          <p>
            <Link href="/machines" className="font-medium text-sky-600 underline dark:text-sky-400">All machines</Link>
          </p>
        </EmptyState>
      );
    }
    return <p className="text-sm text-red-600">{q.error.message}</p>;
  }
  const m = q.data;
  const live = m.state === 'running' || m.state === 'paused' || m.state === 'starting';
  return (
    <div className="space-y-6">
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <div className="flex items-center gap-3">
            <h1 className="text-xl font-semibold tracking-tight">{m.name}</h1>
            <span data-testid="machine-state" data-state={m.state}>
              <StateBadge state={m.state} />
            </span>
          </div>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            {m.driver} · image {m.image}
            {/* A container has no disk of its own size, and its limits are not enforced on every host. */}
            {m.driver === 'qemu' && ` · ${m.cpus} vCPU · ${m.memoryMib} MiB · ${m.diskGib} GiB disk`}
            {m.accel && ` · ${m.accel === 'kvm' ? 'KVM' : 'TCG (software emulation)'}`}
            {m.network && ` · ${m.network === 'host' ? 'host network (its services take host ports)' : m.network === 'nat' ? `NAT network, address ${m.address ?? 'none yet'}` : 'private network (loopback only)'}`}
            {m.ports.length > 0 && ` · forwards ${m.ports.map((p) => `127.0.0.1:${p.host}→${p.guest}`).join(', ')}`}
            {m.command && ` · runs ${m.command.join(' ')}`} · created {formatAge(m.createdAt)}
          </p>
          {m.stateReason && <p className="mt-1 text-sm text-amber-700 dark:text-amber-400">{m.stateReason}</p>}
        </div>
        <MachineActions machine={m} />
      </header>
      <section aria-label="Consoles">
        <div role="tablist" aria-label="Console" className="mb-2 flex items-center gap-1 text-sm">
          <TabButton id="serial" tab={tab} setTab={setTab}>{m.driver === 'qemu' ? 'Serial console' : 'Console'}</TabButton>
          {/* A container's login shell comes through nsenter, not sshd: same channel, its own name. */}
          {m.ssh && <TabButton id="ssh" tab={tab} setTab={setTab}>{m.driver === 'qemu' ? 'SSH' : 'Shell'}</TabButton>}
          {m.ssh && (
            <span className="ml-auto truncate text-xs text-zinc-500" title="From a terminal (the Hangar CLI, logged in to this server)">
              <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200" data-testid="ssh-command">hangar ssh {m.name}</code>
              {m.ssh.port && <span className="ml-2 hidden sm:inline">sshd on 127.0.0.1:{m.ssh.port} of the Hangar host</span>}
            </span>
          )}
        </div>
        {!live ? (
          <p className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center text-sm text-zinc-500 dark:border-zinc-700">
            The console is live while the machine runs. {m.state === 'stopped' || m.state === 'failed' ? 'Start it to see it boot from the first line.' : ''}
          </p>
        ) : tab === 'ssh' && m.ssh ? (
          m.state === 'running' ? (
            <Console key="ssh" target={{ kind: 'machine', machineId: m.id, channel: 'ssh' }} sessionKey={`ssh-${m.id}`} title={`${m.name}-ssh`} className="h-[28rem]" />
          ) : (
            <p className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center text-sm text-zinc-500 dark:border-zinc-700">{m.driver === 'qemu' ? 'SSH' : 'The shell'} opens once the machine has booted ({m.state}).</p>
          )
        ) : (
          <Console key="serial" target={{ kind: 'machine', machineId: m.id, channel: 'serial' }} sessionKey={`serial-${m.id}`} title={m.name} className="h-[28rem]" />
        )}
      </section>
      {access && <RecordingsPanel machine={m} canChange={canShare} />}
      {canShare && <SharePanel machineId={m.id} machineName={m.name} />}
      {canShare && <GrantPanel machineId={m.id} machineName={m.name} />}
      {access && hasRole(access.global, 'viewer') && (
        <section aria-label="Snapshots">
          <h2 className="mb-2 text-sm font-semibold">Snapshots</h2>
          <SnapshotTree machineId={m.id} />
        </section>
      )}
    </div>
  );
}

function TabButton({ id, tab, setTab, children }: { id: Tab; tab: Tab; setTab: (t: Tab) => void; children: React.ReactNode }) {
  const on = id === tab;
  return (
    <button
      type="button"
      role="tab"
      aria-selected={on}
      onClick={() => setTab(id)}
      className={`rounded-lg px-3 py-1.5 font-medium ${on ? 'bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900' : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800'}`}
    >
      {children}
    </button>
  );
}
