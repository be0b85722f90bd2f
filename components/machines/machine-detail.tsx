'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useCallback, useState } from 'react';
import { ApiError } from '@/lib/api-client';
import type { Machine } from '@/lib/contracts/machines';
import { queries } from '@/lib/queries';
import { hasRole } from '@/lib/roles';
import { api } from '@/components/ui/api';
import { BootLog } from '@/components/machines/boot-log';
import { Console } from '@/components/console/console';
import { DisplayTab } from '@/components/display/display-tab';
import { ScreenThumbnail } from '@/components/display/screen-thumbnail';
import { EmptyState } from '@/components/ui/empty-state';
import { FilesPanel } from '@/components/machines/files-panel';
import { GrantPanel } from '@/components/machines/grant-panel';
import { MachineActions } from '@/components/machines/machine-actions';
import { MachineOverview } from '@/components/machines/machine-overview';
import { DisksPanel } from '@/components/machines/disks-panel';
import { RecordingsPanel } from '@/components/console/recordings-panel';
import { SharePanel } from '@/components/machines/share-panel';
import { ForkLinksPanel } from '@/components/fork-links/fork-links-panel';
import { SchedulePanel } from '@/components/schedules/schedule-panel';
import { UndoButton } from '@/components/schedules/undo-button';
import { UndoPanel } from '@/components/schedules/undo-panel';
import { SnapshotTree } from '@/components/snapshots/snapshot-tree';
import { ChangedSincePanel } from '@/components/snapshots/changed-since-panel';
import { StateBadge } from '@/components/machines/state-badge';
import { TagEditor } from '@/components/machines/tag-editor';
import { replaceQuery } from '@/components/ui/url-query';
import { tabPanelProps, Tabs, type TabDef } from '@/components/ui/tabs';

type Tab = 'overview' | 'console' | 'display' | 'ssh' | 'files' | 'snapshots' | 'log' | 'settings';

function Placeholder({ children }: { children: React.ReactNode }) {
  return (
    <p className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
      {children}
    </p>
  );
}

/** A machine's page: header with its actions, then tabs (the tab is in the URL: ?tab=console can be sent to a teammate). */
export function MachineDetail({ machineRef }: { machineRef: string }) {
  const q = useQuery(queries(api).machine(machineRef));
  const access = useQuery(queries(api).access(machineRef)).data;
  const params = useSearchParams();
  const asked = params.get('tab') as Tab | null;
  // Moving through the tabs with the arrow keys: the console must not take the focus away from them.
  const [byKeys, setByKeys] = useState(false);
  const setTab = useCallback((t: Tab, by: 'keyboard' | 'pointer') => {
    setByKeys(by === 'keyboard');
    const p = new URLSearchParams(window.location.search);
    if (t === 'overview') p.delete('tab');
    else p.set('tab', t);
    replaceQuery(p);
  }, []);
  if (q.isPending) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Loading…</p>;
  if (q.error) {
    // Missing and not-yours look the same, on purpose.
    if (q.error instanceof ApiError && q.error.status === 404) {
      return (
        <EmptyState icon="machines" title="No such machine here">
          <p>It does not exist, or you have no access to it. Ask its owner for access.</p>
          <p>
            <Link href="/machines" className="font-medium text-sky-700 underline dark:text-sky-300">
              All machines
            </Link>
          </p>
        </EmptyState>
      );
    }
    return <p className="text-sm text-red-600">{q.error.message}</p>;
  }
  const m = q.data;
  // Sharing, granting, settings: global operators, and the machine's owners.
  const canShare = !!access && (hasRole(access.global, 'operator') || access.grant === 'owner');
  const seesSnapshots = !!access && hasRole(access.global, 'viewer');
  // Files are read and written like exec: operators, and the machine's operators and owners.
  const movesFiles = !!access && (hasRole(access.global, 'operator') || access.grant === 'operator' || access.grant === 'owner');
  const { consoles, limits } = m.capabilities;
  const tabs: TabDef<Tab>[] = [
    { id: 'overview', label: 'Overview' },
    { id: 'console', label: consoles.main.label },
    // A VM's screen (noVNC); containers have none, and their driver says so.
    ...(m.capabilities.display.available ? [{ id: 'display' as const, label: 'Display' }] : []),
    // A container's login shell comes through nsenter, not sshd: the same channel, its own name.
    ...(m.ssh && consoles.shell ? [{ id: 'ssh' as const, label: consoles.shell.label }] : []),
    ...(movesFiles && m.capabilities.files.available ? [{ id: 'files' as const, label: 'Files' }] : []),
    ...(seesSnapshots ? [{ id: 'snapshots' as const, label: 'Snapshots' }] : []),
    { id: 'log', label: 'Boot log' },
    { id: 'settings', label: 'Settings' },
  ];
  const tab: Tab = tabs.some((t) => t.id === asked) ? asked! : 'overview';
  return (
    <div className="space-y-5">
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="truncate text-xl font-semibold tracking-tight">{m.name}</h1>
            <span data-testid="machine-state" data-state={m.state}>
              <StateBadge state={m.state} />
            </span>
          </div>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            {m.driver} ·{' '}
            {m.image
              ? `image ${m.image}`
              : m.capabilities.create.available
                ? `installed from an ISO${m.cdrom ? ` (${m.cdrom} in the drive)` : ''}`
                : 'adopted, not made by Hangar'}
            {limits.disk && ` · ${m.cpus} vCPU · ${m.memoryMib} MiB · ${m.diskGib} GiB disk`}
            {m.accel && ` · ${m.accel === 'kvm' ? 'KVM' : 'TCG (software emulation)'}`}
            {m.network === 'host' && ' · host network (its services take host ports)'}
            {m.network === 'nat' && ` · NAT network, address ${m.address ?? 'none yet'}`}
            {m.network === 'private' && ' · private network (loopback only)'}
          </p>
          {m.stateReason && <p className="mt-1 text-sm text-amber-800 dark:text-amber-300">{m.stateReason}</p>}
        </div>
        <div className="flex items-start gap-3">
          {m.capabilities.display.available && m.state === 'running' && (
            <ScreenThumbnail key={m.state} machine={m} onOpen={() => setTab('display', 'pointer')} />
          )}
          <div className="flex flex-col items-end gap-2">
            <MachineActions machine={m} />
            {movesFiles && <UndoButton machineId={m.id} machineName={m.name} />}
          </div>
        </div>
      </header>
      <Tabs
        tabs={tabs}
        current={tab}
        onSelect={setTab}
        label="Machine"
        idPrefix="machine"
        trailing={
          (tab === 'ssh' || tab === 'console') && m.ssh ? (
            <span className="block truncate text-xs text-zinc-600 dark:text-zinc-400" title="From a terminal (the Hangar CLI, logged in to this server)">
              <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200" data-testid="ssh-command">
                hangar ssh {m.name}
              </code>
              {m.ssh.port && <span className="ml-2 hidden sm:inline">sshd on 127.0.0.1:{m.ssh.port} of the Hangar host</span>}
            </span>
          ) : null
        }
      />
      <div {...tabPanelProps('machine', tab)} className="focus:outline-none">
        <TabBody tab={tab} m={m} canShare={canShare} hasAccess={!!access} focusConsole={!byKeys} />
      </div>
    </div>
  );
}

function TabBody({ tab, m, canShare, hasAccess, focusConsole }: { tab: Tab; m: Machine; canShare: boolean; hasAccess: boolean; focusConsole: boolean }) {
  const live = m.state === 'running' || m.state === 'paused' || m.state === 'starting';
  switch (tab) {
    case 'overview':
      return <MachineOverview m={m} disks={<DisksPanel machine={m} canChange={canShare} />} />;
    case 'console':
      return (
        <div className="space-y-6">
          {live ? (
            <Console
              key="serial"
              target={{ kind: 'machine', machineId: m.id, channel: 'serial' }}
              sessionKey={`serial-${m.id}`}
              title={m.name}
              className="h-[28rem]"
              autoFocus={focusConsole}
            />
          ) : (
            <Placeholder>
              The console is live while the machine runs.{' '}
              {m.state === 'stopped' || m.state === 'failed' ? 'Start it to see it boot from the first line (the Boot log tab keeps the last boot).' : ''}
            </Placeholder>
          )}
          {hasAccess && <RecordingsPanel machine={m} canChange={canShare} />}
        </div>
      );
    case 'display':
      return <DisplayTab machine={m} live={live && m.state !== 'starting'} className="h-[32rem]" />;
    case 'ssh':
      return m.state === 'running' ? (
        <Console
          key="ssh"
          target={{ kind: 'machine', machineId: m.id, channel: 'ssh' }}
          sessionKey={`ssh-${m.id}`}
          title={`${m.name}-ssh`}
          className="h-[28rem]"
          autoFocus={focusConsole}
        />
      ) : (
        <Placeholder>
          {m.capabilities.consoles.shellSubject} opens once the machine runs ({m.state}).
        </Placeholder>
      );
    case 'files':
      return m.state === 'running' ? <FilesPanel m={m} /> : <Placeholder>Files can be copied in and out while the machine runs ({m.state}).</Placeholder>;
    case 'snapshots':
      return (
        <div className="space-y-6">
          <SchedulePanel machineId={m.id} canChange={canShare} />
          <UndoPanel machineId={m.id} canChange={canShare} />
          <SnapshotTree machineId={m.id} />
          <ChangedSincePanel m={m} />
        </div>
      );
    case 'log':
      return <BootLog m={m} />;
    case 'settings':
      return (
        <div className="space-y-6">
          <TagEditor machine={m} canChange={canShare} />
          {canShare && <SharePanel machineId={m.id} machineName={m.name} />}
          {canShare && <ForkLinksPanel machineId={m.id} />}
          {canShare && <GrantPanel machineId={m.id} machineName={m.name} />}
          {!canShare && (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">Sharing, people and tags are changed by operators and the machine&apos;s owners.</p>
          )}
        </div>
      );
  }
}
