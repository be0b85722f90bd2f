'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { LinkList } from '@/components/machines/link-list';

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
      <LinkList
        label="Recording links"
        links={links}
        detail={(s) => s.recordingId ?? ''}
        mono
        usedVerb="opened"
        onRevoke={(id) => revoke.mutate(id)}
        rowPadding="py-1.5"
      />
    </div>
  );
}
