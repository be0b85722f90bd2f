'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { OneTimeLink } from '@/components/ui/one-time-link';
import { LinkExpiryFields } from './link-expiry-fields';
import { LinkList } from './link-list';

const field = 'rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** Share this machine's console with someone without an account: a link with a role and an expiry, revoked in one click. */
export function SharePanel({ machineId, machineName }: { machineId: string; machineName: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const shares = useQuery({ queryKey: keys.shares(machineId), queryFn: async () => (await api.shares.list(machineId)).items });
  const [link, setLink] = useState<string | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.shares(machineId) });
  const create = useMutation({
    mutationFn: (b: { role: 'viewer' | 'operator'; expiresInSeconds: number; label?: string }) => api.shares.create(machineId, b),
    onSuccess: (r) => {
      setLink(`${window.location.origin}${r.path}`);
      refresh();
    },
    onError: (err) => toast('error', err.message),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.shares.revoke(id),
    onSuccess: () => {
      toast('info', 'Link revoked: consoles opened with it are closed.');
      setLink(null);
      refresh();
    },
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const label = String(f.get('label') ?? '').trim();
    create.mutate({ role: f.get('role') as 'viewer' | 'operator', expiresInSeconds: Number(f.get('expires')), ...(label ? { label } : {}) });
  }
  // Recording links are listed with their recordings (components/console/recording-links.tsx).
  const consoleLinks = (shares.data ?? []).filter((s) => !s.recordingId);
  const active = consoleLinks.filter((s) => s.state === 'active');
  const past = consoleLinks.filter((s) => s.state !== 'active').slice(0, 5);
  return (
    <section aria-label="Share" className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
      <h2 className="text-sm font-semibold">Share {machineName}&apos;s console</h2>
      <p className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">
        Anyone with the link sees the console without an account, until it expires or you revoke it.
      </p>
      <form onSubmit={onSubmit} aria-label="New share link" className="mt-3 flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Access</span>
          <select name="role" defaultValue="viewer" className={field}>
            <option value="viewer">Watch (read-only)</option>
            <option value="operator">Watch and type</option>
          </select>
        </label>
        <LinkExpiryFields expiresLabel="Expires in" field={field} />
        <button
          type="submit"
          disabled={create.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Create link
        </button>
      </form>
      {link && <OneTimeLink link={link} testId="share-link" onDone={() => setLink(null)} />}
      <LinkList
        label="Share links"
        links={[...active, ...past]}
        detail={(s) => (s.role === 'operator' ? 'watch and type' : 'read-only')}
        usedVerb="used"
        onRevoke={(id) => revoke.mutate(id)}
        className="mt-3"
      />
    </section>
  );
}
