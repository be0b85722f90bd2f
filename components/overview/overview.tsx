'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { hasRole } from '@/lib/roles';
import { machineStates } from '@/lib/contracts/machines';
import { formatBytes, formatPct } from '@/lib/format';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { HostCapabilities } from '@/components/settings/host-capabilities';
import { HostUsageCards } from '@/components/overview/host-usage-cards';
import { JobRow } from '@/components/jobs/job-row';
import { liveStats, useHostStats } from '@/components/overview/live-stats';
import { Section } from '@/components/ui/section';
import { StateBadge } from '@/components/machines/state-badge';

/** The busiest running machines right now (re-read on every host tick, every 2 s). */
function Busiest() {
  useHostStats();
  const machines = useQuery(queries(api).machines()).data ?? [];
  const running = machines.filter((m) => m.state === 'running');
  const top = running
    .map((m) => ({ m, s: liveStats.last(m.id) }))
    .filter((x) => x.s?.cpuPct != null)
    .sort((a, b) => (b.s!.cpuPct ?? 0) - (a.s!.cpuPct ?? 0))
    .slice(0, 5);
  if (top.length === 0)
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">{running.length ? 'Their figures come every 2 s…' : 'No machine is running.'}</p>;
  return (
    <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
      {top.map(({ m, s }) => (
        <li key={m.id} className="flex items-center gap-3 py-2">
          <Link href={`/machines/${encodeURIComponent(m.name)}`} className="min-w-0 flex-1 truncate font-medium text-sky-700 hover:underline dark:text-sky-300">
            {m.name}
          </Link>
          <span className="text-xs text-zinc-600 tabular-nums dark:text-zinc-400">CPU {formatPct(s!.cpuPct!)}</span>
          <span className="w-20 text-right text-xs text-zinc-600 tabular-nums dark:text-zinc-400">{s!.memBytes == null ? '–' : formatBytes(s!.memBytes)}</span>
        </li>
      ))}
    </ul>
  );
}

/** The dashboard's home: the host's capacity and use, machines by state, what ran lately, what the host can do. */
export function Overview() {
  const me = useQuery(queries(api).me()).data;
  const router = useRouter();
  // A member sees only the machines given to them: their home is that list.
  const member = !!me && !hasRole(me.role, 'viewer');
  useEffect(() => {
    if (member) router.replace('/machines');
  }, [member, router]);
  const usage = useQuery({ ...queries(api).hostUsage(), enabled: !!me && !member });
  const history = usage.data?.history;
  useEffect(() => {
    if (history) liveStats.seedHost(history);
  }, [history]);
  const jobs = useQuery(queries(api).jobs());
  const machines = useQuery(queries(api).machines()).data;
  // `unknown` (its node offline: a cluster only) is shown when a machine is.
  const byState = machineStates
    .map((s) => ({ s, n: machines?.filter((m) => m.state === s).length ?? usage.data?.machines[s] ?? 0 }))
    .filter(({ s, n }) => s !== 'unknown' || n > 0);
  return (
    <div className="space-y-6">
      {usage.error && <p className="text-sm text-red-600">Could not read the host&apos;s figures: {usage.error.message}</p>}
      {usage.data ? <HostUsageCards usage={usage.data} /> : !usage.error && <p className="text-sm text-zinc-600 dark:text-zinc-400">Reading the host…</p>}
      <div className="grid gap-6 lg:grid-cols-2">
        <Section
          title="Machines"
          description={`${machines?.length ?? 0} in all`}
          actions={
            <Link href="/machines" className="text-sm font-medium text-sky-700 hover:underline dark:text-sky-300">
              All machines
            </Link>
          }
        >
          <ul className="grid grid-cols-2 gap-2 sm:grid-cols-4" aria-label="Machines by state">
            {byState.map(({ s, n }) => (
              <li key={s}>
                <Link
                  href={`/machines?state=${s}`}
                  className={
                    `flex items-center gap-2 rounded-lg border px-3 py-2 text-sm hover:bg-zinc-50 dark:hover:bg-zinc-800 ` +
                    `${n ? 'border-zinc-200 dark:border-zinc-700' : 'border-dashed border-zinc-300 text-zinc-600 dark:border-zinc-700 dark:text-zinc-400'}`
                  }
                >
                  <span className="text-base font-semibold tabular-nums">{n}</span>
                  <StateBadge state={s} />
                </Link>
              </li>
            ))}
          </ul>
          <h3 className="mt-5 mb-1 text-xs font-semibold text-zinc-600 uppercase dark:text-zinc-400">Busiest now</h3>
          <Busiest />
        </Section>
        <Section
          title="Recent jobs"
          actions={
            <Link href="/jobs" className="text-sm font-medium text-sky-700 hover:underline dark:text-sky-300">
              All jobs
            </Link>
          }
        >
          {jobs.data?.length ? (
            <ul className="-mx-5 -my-4 divide-y divide-zinc-100 dark:divide-zinc-800">
              {/* The jobs people started: a build's sub-jobs are on the Jobs page, under it. */}
              {jobs.data
                .filter((j) => !j.parentId)
                .slice(0, 6)
                .map((j) => (
                  <JobRow key={j.id} job={j} />
                ))}
            </ul>
          ) : (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              {jobs.isPending ? 'Loading…' : 'Nothing has run yet: builds, boots and checkpoints show up here with their progress.'}
            </p>
          )}
        </Section>
      </div>
      {usage.data && (
        <Section
          title="Snapshots"
          actions={
            <Link href="/snapshots" className="text-sm font-medium text-sky-700 hover:underline dark:text-sky-300">
              Snapshot tree
            </Link>
          }
        >
          <p className="text-sm text-zinc-700 dark:text-zinc-300">
            {usage.data.data.snapshotCount} {usage.data.data.snapshotCount === 1 ? 'snapshot takes' : 'snapshots take'}{' '}
            {formatBytes(usage.data.data.snapshotBytes)} on disk
            {usage.data.data.snapshotCount ? ' (frozen disk layers, device state and RAM; forks share them)' : ''}. Images take{' '}
            {formatBytes(usage.data.data.imageBytes)}.
          </p>
        </Section>
      )}
      <HostCapabilities />
    </div>
  );
}
