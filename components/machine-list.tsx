'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { formatAge } from '@/lib/format';
import { hasRole } from '@/lib/roles';
import { queries } from '@/lib/queries';
import { api } from './api';
import { Cmd, EmptyState } from './empty-state';
import { NewMachineForm } from './new-machine-form';
import { StateBadge } from './state-badge';

export function MachineList() {
  const machines = useQuery(queries(api).machines());
  const me = useQuery(queries(api).me()).data;
  const [creating, setCreating] = useState(false);
  const canCreate = !!me && hasRole(me.role, 'operator');
  if (machines.isPending) return <p className="text-sm text-zinc-500">Loading machines…</p>;
  if (machines.error) return <p className="text-sm text-red-600">Could not load machines: {machines.error.message}</p>;
  return (
    <div className="space-y-4">
      {canCreate && (
        <div className="rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/40">
          {creating ? (
            <div className="p-4">
              <NewMachineForm onDone={() => setCreating(false)} />
            </div>
          ) : (
            <button type="button" onClick={() => setCreating(true)} className="w-full px-4 py-3 text-left text-sm font-medium text-sky-700 hover:bg-sky-50/60 dark:text-sky-300 dark:hover:bg-sky-950/30">
              + New machine
            </button>
          )}
        </div>
      )}
      {machines.data.length === 0 ? (
        <EmptyState icon="machines" title="No machines yet">
          <p>A machine is a QEMU virtual machine or a systemd-nspawn container started from an image; it shows up here live, with its state and console.</p>
          <p>
            Press “New machine” above (build the <strong>busybox</strong> image on the Images page first), or from a terminal: <Cmd>hangar create web-1 --image busybox</Cmd>
          </p>
        </EmptyState>
      ) : (
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
                <tr key={m.id} className="border-b border-zinc-100 last:border-0 hover:bg-zinc-50 dark:border-zinc-800/70 dark:hover:bg-zinc-800/40" data-testid="machine-row" data-machine={m.name} data-state={m.state}>
                  <td className="px-4 py-2 font-medium">
                    <Link href={`/machines/${encodeURIComponent(m.name)}`} className="text-sky-700 hover:underline dark:text-sky-300">
                      {m.name}
                    </Link>
                  </td>
                  <td className="px-4 py-2"><StateBadge state={m.state} /></td>
                  <td className="px-4 py-2">{m.driver}{m.accel ? ` (${m.accel})` : ''}</td>
                  <td className="px-4 py-2">{m.image}</td>
                  <td className="px-4 py-2 text-zinc-600 dark:text-zinc-400">{m.cpus} vCPU · {m.memoryMib} MiB</td>
                  <td className="px-4 py-2 text-zinc-600 dark:text-zinc-400">{formatAge(m.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
