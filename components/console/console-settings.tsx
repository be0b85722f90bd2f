'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

export function ConsoleSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const settings = useQuery(queries(api).settings());
  // The wanted value, set in the change handler itself: the mutation only reports "pending" a tick
  // later, and a controlled checkbox would snap back in between.
  const [wanted, setWanted] = useState<boolean | null>(null);
  const update = useMutation({
    mutationFn: (consoleHostShell: boolean) => api.settings.update({ consoleHostShell }),
    onSuccess: (s) => qc.setQueryData(keys.settings(), s),
    onError: (err) => toast('error', err.message),
    onSettled: () => setWanted(null),
  });
  const isAdmin = !!me && hasRole(me.role, 'admin');
  const on = wanted ?? settings.data?.consoleHostShell ?? false;
  const retention = useMutation({
    mutationFn: (recordingRetentionDays: number) => api.settings.update({ recordingRetentionDays }),
    onSuccess: (s) => {
      qc.setQueryData(keys.settings(), s);
      toast('success', s.recordingRetentionDays ? `Recordings are kept ${s.recordingRetentionDays} days.` : 'Recordings are kept until deleted.');
    },
    onError: (err) => toast('error', err.message),
  });
  return (
    <Section
      title="Consoles"
      description="Console sessions live in the server: reloading a page or losing the connection returns to the same terminal with its scrollback."
    >
      <label className="flex items-start gap-3 text-sm">
        <input
          type="checkbox"
          className="mt-1 h-4 w-4"
          checked={on}
          disabled={!isAdmin || !settings.data}
          onChange={(e) => {
            setWanted(e.target.checked);
            update.mutate(e.target.checked);
          }}
        />
        <span>
          <span className="font-medium">Host shell console for admins</span>
          <span className="block text-zinc-600 dark:text-zinc-400">
            A shell on the Hangar host itself, as the user Hangar runs as (often root). Off by default. {!isAdmin && 'Only admins can change this.'}
          </span>
        </span>
      </label>
      <label className="mt-4 flex flex-wrap items-center gap-3 text-sm">
        <span className="font-medium">Keep console recordings</span>
        <input
          key={settings.data?.recordingRetentionDays}
          type="number"
          min={0}
          max={3650}
          className="w-20 rounded-md border border-zinc-300 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
          defaultValue={settings.data?.recordingRetentionDays ?? 30}
          disabled={!isAdmin || !settings.data}
          aria-label="Days to keep console recordings"
          onBlur={(e) => {
            const n = Number(e.target.value);
            if (Number.isInteger(n) && n >= 0 && n <= 3650 && n !== settings.data?.recordingRetentionDays) retention.mutate(n);
          }}
        />
        <span className="text-zinc-600 dark:text-zinc-400">days (0: until deleted). Machines record their consoles when their Recordings setting is on.</span>
      </label>
    </Section>
  );
}
