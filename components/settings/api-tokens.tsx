'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { roles, hasRole, type Role } from '@/lib/roles';
import { formatAge } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { ShownOnce } from '@/components/ui/shown-once';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

export function ApiTokens() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const tokens = useQuery(queries(api).tokens());
  const [secret, setSecret] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (b: { name: string; role: Role }) => api.tokens.create(b),
    onSuccess: (c) => {
      setSecret(c.secret);
      void qc.invalidateQueries({ queryKey: keys.tokens() });
    },
    onError: (err) => toast('error', err.message),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.tokens.revoke(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.tokens() }),
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create.mutate({ name: String(f.get('name')), role: f.get('role') as Role });
    e.currentTarget.reset();
  }
  const allowed = me ? roles.filter((r) => hasRole(me.role, r)) : [];
  const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
  return (
    <Section
      title="API tokens"
      description={
        <>
          For the CLI and scripts: <code className="font-mono text-xs">hangar login --token TOKEN</code>. A token never has a stronger role than yours.
        </>
      }
    >
      <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Name</span>
          <input name="name" required maxLength={64} placeholder="laptop CLI" className={field} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Role</span>
          <select name="role" defaultValue={me?.role} className={field}>
            {allowed.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          disabled={create.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Create token
        </button>
      </form>
      {secret && <ShownOnce what="this token" value={secret} testId="new-token" onDone={() => setSecret(null)} />}
      <ul className="mt-4 divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
        {tokens.data?.length === 0 && <li className="py-2 text-zinc-500 dark:text-zinc-400">No tokens yet.</li>}
        {tokens.data?.map((t) => (
          <li key={t.id} className="flex items-center gap-3 py-2">
            <span className="flex-1 font-medium">{t.name}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">{t.role}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">{t.lastUsedAt ? `used ${formatAge(t.lastUsedAt)}` : 'never used'}</span>
            <button
              type="button"
              onClick={() => revoke.mutate(t.id)}
              className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}
