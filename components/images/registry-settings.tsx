'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';
import { DownloadPrivateSwitch, TrustedPublishers } from './download-settings';

const input = 'rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * Settings -> Registries (admins): the default registry for bare names, and per registry the
 * insecure switch, its CA and credentials (checked by the server before they are kept; the
 * password is never shown again).
 */
export function RegistrySettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const settings = useQuery(queries(api).settings());
  const list = useQuery({ queryKey: ['registries'], queryFn: async () => (await api.registries.list()).items });
  const [dflt, setDflt] = useState<string | null>(null);
  const [f, setF] = useState({ host: '', insecure: false, username: '', password: '', ca: '' });
  const done = (msg: string) => {
    toast('info', msg);
    void qc.invalidateQueries({ queryKey: ['registries'] });
  };
  const saveDefault = useMutation({
    mutationFn: (defaultRegistry: string) => api.settings.update({ defaultRegistry }),
    onSuccess: (s) => {
      qc.setQueryData(keys.settings(), s);
      setDflt(null);
      toast('info', `Bare image names now come from ${s.defaultRegistry}.`);
    },
    onError: (err) => toast('error', err.message),
  });
  const put = useMutation({
    mutationFn: () =>
      api.registries.put(f.host.trim(), {
        insecure: f.insecure,
        ...(f.username && f.password ? { username: f.username, password: f.password } : {}),
        ...(f.ca.trim() ? { ca: f.ca } : {}),
      }),
    onSuccess: (r) => {
      setF({ host: '', insecure: false, username: '', password: '', ca: '' });
      done(`${r.host} saved${r.username ? `, logged in as ${r.username}` : ''}.`);
    },
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({ mutationFn: (host: string) => api.registries.remove(host), onSuccess: () => done('Registry removed.') });
  if (list.error) return null; // not an admin
  return (
    <Section title="Registries" description="Where images are pulled from. TLS is verified unless a registry is marked insecure (plain-HTTP test registries).">
      <DownloadPrivateSwitch />
      <TrustedPublishers />
      <form
        className="mb-4 flex flex-wrap items-end gap-3 text-sm"
        onSubmit={(e) => {
          e.preventDefault();
          if (dflt !== null) saveDefault.mutate(dflt.trim());
        }}
      >
        <label className="flex min-w-64 flex-1 flex-col gap-1">
          <span className="font-medium">Default registry (for names like alpine:3.20)</span>
          <input className={input} value={dflt ?? settings.data?.defaultRegistry ?? ''} onChange={(e) => setDflt(e.target.value)} />
        </label>
        <button
          type="submit"
          disabled={dflt === null}
          className="rounded-lg bg-zinc-900 px-3 py-1.5 font-medium text-white disabled:opacity-40 dark:bg-zinc-100 dark:text-zinc-900"
        >
          Save
        </button>
      </form>
      <ul className="mb-4 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" data-testid="registries">
        {(list.data ?? []).map((r) => (
          <li key={r.host} className="flex items-center gap-3 py-2">
            <span className="flex-1 font-mono">{r.host}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">
              {r.insecure ? 'insecure' : 'TLS verified'}
              {r.hasCa ? ' · own CA' : ''}
              {r.username ? ` · ${r.username}` : ''}
            </span>
            <button type="button" onClick={() => remove.mutate(r.host)} className="rounded-md px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400">
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        className="grid gap-3 text-sm sm:grid-cols-2"
        onSubmit={(e) => {
          e.preventDefault();
          put.mutate();
        }}
      >
        <input className={input} placeholder="host[:port]" value={f.host} onChange={(e) => setF({ ...f, host: e.target.value })} aria-label="Registry host" />
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={f.insecure} onChange={(e) => setF({ ...f, insecure: e.target.checked })} />
          Insecure (no TLS verification, plain HTTP)
        </label>
        <input className={input} placeholder="username" value={f.username} onChange={(e) => setF({ ...f, username: e.target.value })} aria-label="Username" />
        <input
          className={input}
          type="password"
          placeholder="password"
          value={f.password}
          onChange={(e) => setF({ ...f, password: e.target.value })}
          aria-label="Password"
        />
        <textarea
          className={`${input} sm:col-span-2`}
          rows={2}
          placeholder="CA certificate (PEM), if the registry's TLS certificate is not from a public CA"
          value={f.ca}
          onChange={(e) => setF({ ...f, ca: e.target.value })}
          aria-label="CA certificate"
        />
        <button
          type="submit"
          disabled={!f.host.trim() || put.isPending}
          className="w-fit rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white disabled:opacity-60"
        >
          Save registry
        </button>
      </form>
    </Section>
  );
}
