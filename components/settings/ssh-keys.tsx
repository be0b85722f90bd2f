'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { formatAge } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

/** Your SSH public keys: machines you may operate let them in (OpenSSH through Hangar: `hangar ssh-config`). */
export function SshKeys() {
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery(queries(api).sshKeys());
  const [error, setError] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (b: { name?: string; publicKey: string }) => api.sshKeys.add(b),
    onSuccess: (k) => {
      setError(null);
      toast('success', `Added ${k.name} (${k.fingerprint}).`);
      void qc.invalidateQueries({ queryKey: keys.sshKeys() });
    },
    // Shown beside the form: a malformed or duplicate key is the user's to fix there.
    onError: (err) => setError(err.message),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.sshKeys.remove(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.sshKeys() }),
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const name = String(f.get('name') ?? '').trim();
    add.mutate({ publicKey: String(f.get('publicKey')), ...(name ? { name } : {}) }, { onSuccess: () => form.reset() });
  }
  const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
  return (
    <Section
      title="SSH keys"
      description={
        <>
          Machines you may operate let these keys in as root. Then <code className="font-mono text-xs">hangar ssh-config</code> and{' '}
          <code className="font-mono text-xs">ssh hangar.NAME</code>, scp, rsync or VS Code Remote-SSH, through Hangar.
        </>
      }
    >
      <form onSubmit={onSubmit} onChange={() => setError(null)} className="flex flex-wrap items-end gap-2" aria-label="Add an SSH key">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Name</span>
          <input name="name" maxLength={64} placeholder="laptop" className={field} />
        </label>
        <label className="min-w-72 flex-1 text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Public key (the .pub file)</span>
          <input name="publicKey" required placeholder="ssh-ed25519 AAAA... you@laptop" className={`${field} w-full font-mono text-xs`} />
        </label>
        <button
          type="submit"
          disabled={add.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Add key
        </button>
      </form>
      {error && (
        <p role="alert" className="mt-2 text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      <ul className="mt-4 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Your SSH keys">
        {list.data?.length === 0 && <li className="py-2 text-zinc-500 dark:text-zinc-400">No SSH keys yet.</li>}
        {list.data?.map((k) => (
          <li key={k.id} className="flex flex-wrap items-center gap-3 py-2">
            <span className="font-medium">{k.name}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">
              {k.type}
              {k.bits ? ` ${k.bits}` : ''}
            </span>
            <code className="flex-1 truncate font-mono text-xs text-zinc-600 dark:text-zinc-300">{k.fingerprint}</code>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">added {formatAge(k.createdAt)}</span>
            <button
              type="button"
              onClick={() => remove.mutate(k.id)}
              aria-label={`Remove ${k.name}`}
              className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}
