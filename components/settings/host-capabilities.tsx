'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDuration } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';

export function HostCapabilities() {
  const host = useQuery(queries(api).host());
  const qc = useQueryClient();
  const [refreshing, setRefreshing] = useState(false);
  async function refresh() {
    setRefreshing(true);
    try {
      qc.setQueryData(keys.host(), await api.host.get(true));
    } finally {
      setRefreshing(false);
    }
  }
  const d = host.data;
  return (
    <Section
      title="Host capabilities"
      description={
        d
          ? `${d.hostname} · ${d.kernel} · ${d.cpus} CPUs · ${Math.round(d.memoryMib / 1024)} GiB · probed in ${formatDuration(d.probeMs)}`
          : 'Probing what this host can run…'
      }
      actions={
        <button
          type="button"
          onClick={refresh}
          disabled={refreshing}
          className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-50 disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          {refreshing ? 'Probing…' : 'Probe again'}
        </button>
      }
    >
      {host.error && <p className="text-sm text-red-600">{host.error.message}</p>}
      {!d && !host.error && (
        <p className="text-sm text-zinc-500 dark:text-zinc-400" aria-busy="true">
          Booting a tiny test guest under each accelerator; this takes a few seconds.
        </p>
      )}
      {d && (
        <table className="w-full text-left text-sm">
          <thead className="sr-only">
            <tr>
              <th>Feature</th>
              <th>Available</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {d.capabilities.map((c) => (
              <tr
                key={c.name}
                className="border-b border-zinc-100 align-top last:border-0 dark:border-zinc-800/70"
                data-capability={c.name}
                data-available={c.available}
              >
                <td className="w-28 py-2 pr-3 font-mono text-xs font-medium">{c.name}</td>
                <td className="w-8 py-2 pr-3">
                  <span
                    className={c.available ? 'text-emerald-700 dark:text-emerald-400' : 'text-zinc-500'}
                    aria-label={c.available ? 'available' : 'not available'}
                  >
                    {c.available ? '●' : '○'}
                  </span>
                </td>
                <td className="py-2 text-zinc-600 dark:text-zinc-400">
                  {c.reason}
                  {c.version && <span className="ml-2 text-xs text-zinc-500 dark:text-zinc-400">{c.version}</span>}
                  {Object.entries(c.details).map(([k, v]) => (
                    <span key={k} className="mt-0.5 block text-xs text-zinc-500 dark:text-zinc-400">
                      {k}: {v}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
