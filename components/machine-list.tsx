'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { queries } from '@/lib/queries';
import { formatAge } from '@/lib/format';
import { api } from './api';
import { Cmd, EmptyState } from './empty-state';
import { StateBadge } from './state-badge';

export function MachineList() {
  const machines = useQuery(queries(api).machines());
  if (machines.isPending) return <p className="text-sm text-zinc-500">Loading machines…</p>;
  if (machines.error) return <p className="text-sm text-red-600">Could not load machines: {machines.error.message}</p>;
  if (machines.data.length === 0) {
    return (
      <EmptyState icon="machines" title="No machines yet">
        <p>
          A machine is a QEMU virtual machine or a container started from an image. Every machine shows up here live, with its state, console and snapshots.
        </p>
        <p>
          This build does not create machines yet (the QEMU and container drivers come next). Meanwhile, <Link href="/settings" className="font-medium text-sky-600 underline dark:text-sky-400">Settings</Link> shows what this host can run, and <Cmd>hangar status</Cmd> checks the CLI.
        </p>
      </EmptyState>
    );
  }
  return (
    <div className="overflow-x-auto rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/40">
      <table className="w-full text-left text-sm">
        <thead className="border-b border-zinc-200 text-xs text-zinc-500 uppercase dark:border-zinc-800 dark:text-zinc-400">
          <tr>
            <th className="px-4 py-2 font-medium">Name</th>
            <th className="px-4 py-2 font-medium">State</th>
            <th className="px-4 py-2 font-medium">Driver</th>
            <th className="px-4 py-2 font-medium">Image</th>
            <th className="px-4 py-2 font-medium">Resources</th>
            <th className="px-4 py-2 font-medium">Created</th>
          </tr>
        </thead>
        <tbody>
          {machines.data.map((m) => (
            <tr key={m.id} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800/70">
              <td className="px-4 py-2 font-medium">{m.name}</td>
              <td className="px-4 py-2"><StateBadge state={m.state} /></td>
              <td className="px-4 py-2">{m.driver}</td>
              <td className="px-4 py-2">{m.image}</td>
              <td className="px-4 py-2 text-zinc-600 dark:text-zinc-400">{m.cpus} vCPU · {m.memoryMib} MiB</td>
              <td className="px-4 py-2 text-zinc-600 dark:text-zinc-400">{formatAge(m.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
