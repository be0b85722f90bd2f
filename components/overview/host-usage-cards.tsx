'use client';

import type { ReactNode } from 'react';
import type { HostUsage } from '@/lib/contracts/stats';
import { formatBytes, formatPct } from '@/lib/format';
import { useHostStats } from '@/components/overview/live-stats';
import { Sparkline } from '@/components/overview/sparkline';

/** A bar for one share of a whole, with what it measures said in words for screen readers. */
function Meter({ parts, label }: { parts: { value: number; className: string }[]; label: string }) {
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round((parts[0]?.value ?? 0) * 100)}
      className="flex h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
    >
      {parts.map((p, i) => (
        <div key={i} className={p.className} style={{ width: `${Math.max(0, Math.min(1, p.value)) * 100}%` }} />
      ))}
    </div>
  );
}

function Card({ title, figure, children }: { title: string; figure: ReactNode; children: ReactNode }) {
  return (
    <section aria-label={title} className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40">
      <div className="flex items-baseline justify-between gap-2">
        <h2 className="text-sm font-semibold">{title}</h2>
        <span className="text-lg font-semibold tabular-nums">{figure}</span>
      </div>
      <div className="mt-3 space-y-2 text-xs text-zinc-600 dark:text-zinc-400">{children}</div>
    </section>
  );
}

/** CPU, memory and disk of the Hangar host: capacity, use now (live every 2 s) and what machines were given. */
export function HostUsageCards({ usage }: { usage: HostUsage }) {
  const ticks = useHostStats();
  const last = ticks[ticks.length - 1];
  const cpuPct = last?.cpuPct ?? usage.cpuPct;
  const load = last?.load ?? usage.load;
  const avail = last?.memAvailableBytes ?? usage.memAvailableBytes;
  const memUsed = usage.memTotalBytes - avail;
  const diskUsed = usage.disk.totalBytes - usage.disk.freeBytes;
  const hangar = usage.data.snapshotBytes + usage.data.imageBytes + (usage.data.machineBytes ?? 0);
  const limit = usage.allocated.memoryLimitMib;
  return (
    <div className="grid gap-4 md:grid-cols-3">
      <Card title="CPU" figure={cpuPct === null ? '–' : formatPct(cpuPct)}>
        <Sparkline
          values={ticks.map((t) => t.cpuPct)}
          max={100}
          slots={90}
          label={`Host CPU ${cpuPct === null ? 'unknown' : formatPct(cpuPct)}`}
          stretch
          className="h-8 w-full text-sky-700 dark:text-sky-400"
        />
        <p>
          {usage.cpus} CPUs · load {load.map((l) => l.toFixed(2)).join(' ')}
        </p>
        <p>{usage.allocated.cpus} vCPUs given to running machines</p>
      </Card>
      <Card title="Memory" figure={`${formatBytes(memUsed)} / ${formatBytes(usage.memTotalBytes)}`}>
        <Meter
          label={`Host memory in use: ${formatBytes(memUsed)} of ${formatBytes(usage.memTotalBytes)}`}
          parts={[{ value: memUsed / usage.memTotalBytes, className: 'bg-violet-500' }]}
        />
        <p>{formatBytes(avail)} available (page cache counts as available)</p>
        <p>
          {usage.allocated.memoryMib} MiB given to running machines{limit !== null ? ` of the ${limit} MiB Hangar may hand out (Settings)` : ''}
        </p>
        {limit !== null && (
          <Meter
            label={`Memory given to machines: ${usage.allocated.memoryMib} of ${limit} MiB`}
            parts={[{ value: usage.allocated.memoryMib / limit, className: usage.allocated.memoryMib > 0.9 * limit ? 'bg-amber-500' : 'bg-emerald-500' }]}
          />
        )}
      </Card>
      <Card title="Disk" figure={`${formatBytes(diskUsed)} / ${formatBytes(usage.disk.totalBytes)}`}>
        <Meter
          label={`Disk of the data dir in use: ${formatBytes(diskUsed)} of ${formatBytes(usage.disk.totalBytes)}`}
          parts={[
            {
              value: diskUsed / Math.max(1, usage.disk.totalBytes),
              className: usage.disk.freeBytes < 0.1 * usage.disk.totalBytes ? 'bg-red-500' : 'bg-sky-500',
            },
          ]}
        />
        <p className="truncate" title={usage.disk.path}>
          {formatBytes(usage.disk.freeBytes)} free on {usage.disk.path}
        </p>
        <p>
          Hangar: {formatBytes(hangar)} · snapshots {formatBytes(usage.data.snapshotBytes)} ({usage.data.snapshotCount}) · images{' '}
          {formatBytes(usage.data.imageBytes)} · machines {usage.data.machineBytes === null ? '–' : formatBytes(usage.data.machineBytes)}
        </p>
      </Card>
    </div>
  );
}
