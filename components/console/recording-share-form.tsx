'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { OneTimeLink } from '@/components/ui/one-time-link';
import { LinkExpiryFields } from '@/components/machines/link-expiry-fields';

const field = 'rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** Make a read-only, expiring link to one recording; the link is shown once. */
export function RecordingShareForm({ machineId, recordingId, onClose }: { machineId: string; recordingId: string; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [link, setLink] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (b: { expiresInSeconds: number; label?: string }) => api.shares.createForRecording(machineId, recordingId, b),
    onSuccess: (r) => {
      setLink(`${window.location.origin}${r.path}`);
      void qc.invalidateQueries({ queryKey: keys.shares(machineId) });
    },
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const label = String(f.get('label') ?? '').trim();
    create.mutate({ expiresInSeconds: Number(f.get('expires')), ...(label ? { label } : {}) });
  }
  if (link) return <OneTimeLink link={link} testId="recording-share-link" note="It plays this recording only, read-only." onDone={onClose} className="mt-2" />;
  return (
    <form onSubmit={onSubmit} aria-label="New recording link" className="mt-2 flex flex-wrap items-end gap-2">
      <LinkExpiryFields expiresLabel="Link expires in" field={field} />
      <button
        type="submit"
        disabled={create.isPending}
        className="rounded-md bg-sky-700 px-3 py-1 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
      >
        Make link
      </button>
      <button type="button" onClick={onClose} className="px-2 py-1 text-sm text-zinc-600 dark:text-zinc-400">
        Cancel
      </button>
    </form>
  );
}
