'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const button = 'rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium disabled:opacity-50 dark:border-zinc-700';

/**
 * An ISO-install VM's CD-ROM drive on its Overview: the disc in it and the firmware; while it runs,
 * Eject, or Insert a library ISO (changed live through QEMU's monitor; the server checks the caller may).
 */
export function CdromControl({ m }: { m: Machine }) {
  const qc = useQueryClient();
  const toast = useToast();
  const isos = useQuery(queries(api).isos()).data ?? [];
  const [pick, setPick] = useState('');
  const change = useMutation({
    mutationFn: (iso: string | null) => api.isos.cdrom(m.name, iso ? { action: 'insert', iso } : { action: 'eject' }),
    onSuccess: (r) => {
      toast('info', r.iso ? `${r.iso} is in the drive.` : 'The drive is empty.');
      void qc.invalidateQueries({ queryKey: keys.isos() });
    },
    onError: (err) => toast('error', err.message),
  });
  const running = m.state === 'running';
  const choice = pick || isos.find((i) => i.name !== m.cdrom)?.name || '';
  return (
    <span className="flex flex-wrap items-center gap-2" data-testid="cdrom-control">
      <span className="font-mono">{m.cdrom ?? 'empty'}</span>
      <span className="text-xs text-zinc-500 dark:text-zinc-400">· {m.firmware === 'uefi' ? 'UEFI' : 'BIOS'}</span>
      {running && m.cdrom && (
        <button type="button" className={button} disabled={change.isPending} onClick={() => change.mutate(null)}>
          Eject
        </button>
      )}
      {running && !m.cdrom && isos.length > 0 && (
        <>
          <select
            aria-label="ISO to insert"
            value={choice}
            onChange={(e) => setPick(e.target.value)}
            className="rounded-md border border-zinc-300 bg-white px-1 py-0.5 text-xs dark:border-zinc-700 dark:bg-zinc-900"
          >
            {isos.map((i) => (
              <option key={i.id} value={i.name}>
                {i.name}
              </option>
            ))}
          </select>
          <button type="button" className={button} disabled={change.isPending || !choice} onClick={() => change.mutate(choice)}>
            Insert
          </button>
        </>
      )}
    </span>
  );
}
