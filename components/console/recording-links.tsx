'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { formatAge } from '@/lib/format';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const until = (ts: number) => {
  const h = Math.round((ts - Date.now()) / 3_600_000);
  return h >= 48 ? `${Math.round(h / 24)} days` : h >= 1 ? `${h} h` : `${Math.max(1, Math.round((ts - Date.now()) / 60_000))} min`;
};

/** A machine's live recording links (each opens one recording, read-only), revoked in one click. */
export function RecordingLinks({ machineId }: { machineId: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  // The machine's share links, as the share panel reads them (one cache): here only those that open a recording.
  const shares = useQuery({ queryKey: keys.shares(machineId), queryFn: async () => (await api.shares.list(machineId)).items });
  const revoke = useMutation({
    mutationFn: (id: string) => api.shares.revoke(id),
    onSuccess: () => {
      toast('info', 'Recording link revoked: it opens nothing now.');
      void qc.invalidateQueries({ queryKey: keys.shares(machineId) });
    },
    onError: (err) => toast('error', err.message),
  });
  const links = (shares.data ?? []).filter((s) => s.recordingId && s.state === 'active');
  if (!links.length) return null;
  return (
    <div className="mt-3 border-t border-zinc-200 pt-2 dark:border-zinc-800">
      <h4 className="text-xs font-semibold uppercase tracking-wide text-zinc-500 dark:text-zinc-400">Recording links</h4>
      <ul aria-label="Recording links" className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
        {links.map((s) => (
          <li key={s.id} data-share={s.id} className="flex flex-wrap items-center gap-3 py-1.5">
            <span className="min-w-0 flex-1 truncate">
              {s.label ?? 'link'} <span className="font-mono text-xs text-zinc-500 dark:text-zinc-400">· {s.recordingId}</span>
            </span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">{s.lastUsedAt ? `opened ${formatAge(s.lastUsedAt)}` : 'not opened yet'}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">expires in {until(s.expiresAt)}</span>
            <button
              type="button"
              onClick={() => revoke.mutate(s.id)}
              className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
