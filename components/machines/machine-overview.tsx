'use client';

import { useEffect, type ReactNode } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import type { MachineStatsSample } from '@/lib/contracts/stats';
import { formatAge, formatBytes, formatPct, formatRate } from '@/lib/format';
import { api } from '@/components/ui/api';
import { liveStats, useMachineStats } from '@/components/overview/live-stats';
import { memoryScale } from '@/lib/chart';
import { StatChart, type ChartSeries } from '@/components/overview/stat-chart';
import { useWatchMachineStats } from '@/components/overview/stats-watch';
import { CdromControl } from './cdrom-control';

/** Three minutes of samples on the charts. */
const SLOTS = 90;

const pick = (samples: MachineStatsSample[], k: keyof MachineStatsSample) => samples.slice(-SLOTS).map((s) => s[k] as number | null);

/** One line of a chart: a figure of the samples, its name and its colour. */
const line = (samples: MachineStatsSample[], label: string, color: string, k: keyof MachineStatsSample): ChartSeries => ({
  label,
  color,
  values: pick(samples, k),
});

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="mt-0.5 truncate text-sm">{children}</dd>
    </div>
  );
}

/** A machine at a glance: what it is, and live CPU, memory, disk and network graphs while it runs. */
export function MachineOverview({ m, disks }: { m: Machine; disks?: ReactNode }) {
  const live = m.state === 'running' || m.state === 'paused';
  useWatchMachineStats(live ? m.id : null);
  useEffect(() => {
    api.machines.stats(m.id).then(
      (h) => liveStats.seed(m.id, h.samples),
      () => undefined,
    );
  }, [m.id]);
  const samples = useMachineStats(m.id);
  const last = samples[samples.length - 1];
  const memLimit = last?.memLimitBytes ?? m.memoryMib * 2 ** 20;
  const memMax = memoryScale(memLimit, pick(samples, 'memBytes'));
  const hasGuestMem = pick(samples, 'guestMemBytes').some((v) => v !== null);
  const hasNet = pick(samples, 'netRxBps').some((v) => v !== null);
  const { words, limits, consoles } = m.capabilities;
  const netNote = hasNet
    ? undefined
    : (words.networkNote ?? (m.network === 'host' ? "This container shares the host's network: its traffic cannot be told apart from the host's." : undefined));
  return (
    <div className="space-y-6">
      <dl
        className={`grid grid-cols-2 gap-x-6 gap-y-3 rounded-xl border border-zinc-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-4
        dark:border-zinc-800 dark:bg-zinc-900/40`}
      >
        <Fact label="Kind">{words.kind}</Fact>
        <Fact label="Image">{m.image || (m.capabilities.create.available ? 'none: installed from an ISO' : 'none: adopted, not made by Hangar')}</Fact>
        {m.capabilities.iso.available && m.firmware && <Fact label="CD-ROM">{<CdromControl m={m} />}</Fact>}
        <Fact label="Resources">
          {limits.cpus || limits.memory
            ? `${m.cpus} vCPU · ${m.memoryMib} MiB${limits.disk ? ` · ${m.diskGib} GiB disk` : ''}`
            : "its own: none of this host's are reserved"}
        </Fact>
        <Fact label="Own disk layer">{last?.diskUsedBytes != null ? formatBytes(last.diskUsedBytes) : '–'}</Fact>
        <Fact label="Network">
          {m.network === 'nat'
            ? `NAT, ${m.address ?? 'no address yet'}`
            : m.network === 'host'
              ? 'host network'
              : m.network === 'private'
                ? 'private (loopback only)'
                : m.address
                  ? `its own, ${m.address}`
                  : 'user-mode NAT'}
        </Fact>
        <Fact label="Port forwards">{m.ports.length ? m.ports.map((p) => `127.0.0.1:${p.host}→${p.guest}`).join(', ') : 'none'}</Fact>
        <Fact label={consoles.shell?.label ?? 'Shell'}>
          {m.ssh ? (m.ssh.port ? `127.0.0.1:${m.ssh.port} (hangar ssh ${m.name})` : `hangar ssh ${m.name}`) : 'no sshd in this image'}
        </Fact>
        {m.command && <Fact label="Runs">{m.command.join(' ')}</Fact>}
        <Fact label="Created">{formatAge(m.createdAt)}</Fact>
        <Fact label="Tags">{m.tags.length ? m.tags.join(', ') : 'none'}</Fact>
      </dl>
      {disks}
      {!live && (
        <p className="rounded-xl border border-dashed border-zinc-300 px-4 py-6 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
          Live graphs show while the machine runs{samples.length ? '; below are its last figures' : ''}.
        </p>
      )}
      {(live || samples.length > 0) && (
        <div className="grid gap-4 md:grid-cols-2" data-testid="machine-charts">
          <StatChart
            title="CPU"
            slots={SLOTS}
            since="3 min ago"
            max={100}
            format={formatPct}
            series={[line(samples, m.cpus > 0 ? `of ${m.cpus} vCPU` : 'of its CPUs', 'text-sky-700 dark:text-sky-400', 'cpuPct')]}
          />
          <StatChart
            title="Memory"
            slots={SLOTS}
            since="3 min ago"
            max={memMax}
            format={formatBytes}
            series={[
              line(samples, words.memorySeries, 'text-violet-600 dark:text-violet-400', 'memBytes'),
              ...(hasGuestMem ? [line(samples, 'guest used', 'text-emerald-700 dark:text-emerald-400', 'guestMemBytes')] : []),
            ]}
            note={`${words.memoryLimit}: ${formatBytes(memLimit)}.${words.memoryNote ? ` ${words.memoryNote}` : ''}`}
          />
          <StatChart
            title="Disk I/O"
            slots={SLOTS}
            since="3 min ago"
            format={formatRate}
            series={[
              line(samples, 'read', 'text-sky-700 dark:text-sky-400', 'diskReadBps'),
              line(samples, 'write', 'text-amber-700 dark:text-amber-400', 'diskWriteBps'),
            ]}
          />
          <StatChart
            title="Network"
            slots={SLOTS}
            since="3 min ago"
            format={formatRate}
            series={[
              line(samples, 'in', 'text-emerald-700 dark:text-emerald-400', 'netRxBps'),
              line(samples, 'out', 'text-rose-600 dark:text-rose-400', 'netTxBps'),
            ]}
            note={netNote}
          />
        </div>
      )}
    </div>
  );
}
