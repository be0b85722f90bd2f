'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent } from 'react';
import type { CreateSsoProviderBody } from '@/lib/contracts/sso';
import { keys, queries } from '@/lib/queries';
import { roles, type Role } from '@/lib/roles';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const label = 'mb-1 block text-xs text-zinc-500 dark:text-zinc-400';

/** "admins=admin, ops=operator" -> { admins: 'admin', ops: 'operator' }. */
function parseRoleMap(text: string): Record<string, Role> {
  const map: Record<string, Role> = {};
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((x) => x.trim());
    if (k && v && (roles as readonly string[]).includes(v)) map[k] = v as Role;
  }
  return map;
}

/** Admins: OpenID Connect providers for the login page, and whether password logins stay on. */
export function SignInProviders() {
  const qc = useQueryClient();
  const toast = useToast();
  const providers = useQuery(queries(api).ssoProviders()).data;
  const settings = useQuery(queries(api).settings()).data;
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.ssoProviders() });
    void qc.invalidateQueries({ queryKey: keys.signInOptions() });
  };
  const add = useMutation({
    mutationFn: (b: CreateSsoProviderBody) => api.sso.create(b),
    onSuccess: (p) => (toast('info', `${p.name} added: the login page offers it.`), refresh()),
    onError: (err) => toast('error', err.message),
  });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => api.sso.update(id, { enabled }),
    onSuccess: refresh,
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({ mutationFn: (id: string) => api.sso.remove(id), onSuccess: refresh, onError: (err) => toast('error', err.message) });
  const local = useMutation({
    mutationFn: (b: { localLogin: boolean; breakGlassAdmin: string }) => api.settings.update(b),
    onSuccess: () => (toast('info', 'Saved.'), void qc.invalidateQueries({ queryKey: keys.settings() }), refresh()),
    onError: (err) => toast('error', err.message),
  });
  function onAdd(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => String(f.get(k) ?? '').trim();
    add.mutate({
      name: s('name'),
      issuer: s('issuer'),
      clientId: s('clientId'),
      clientSecret: s('clientSecret'),
      scopes: s('scopes') || 'openid email profile',
      roleClaim: s('roleClaim') || 'groups',
      roleMap: parseRoleMap(s('roleMap')),
      allowedDomains: s('domains')
        ? s('domains')
            .split(/[\s,]+/)
            .filter(Boolean)
        : [],
      enabled: true,
    });
  }
  return (
    <Section
      title="Sign-in providers"
      description={
        'Single sign-on with OpenID Connect: the login page offers "Sign in with NAME". ' +
        "At the provider, register this server's address followed by /sso/callback as the redirect URI."
      }
    >
      <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Sign-in providers">
        {providers?.map((p) => (
          <li key={p.id} className="flex flex-wrap items-center gap-3 py-2">
            <span className="min-w-28 font-medium">{p.name}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">
              {p.issuer} · client {p.clientId} · {p.roleClaim}:{' '}
              {Object.entries(p.roleMap)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}
              {p.allowedDomains.length ? ` · ${p.allowedDomains.join(', ')}` : ''}
            </span>
            <button
              type="button"
              onClick={() => toggle.mutate({ id: p.id, enabled: !p.enabled })}
              className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
            >
              {p.enabled ? 'Disable' : 'Enable'}
            </button>
            <button
              type="button"
              onClick={() => remove.mutate(p.id)}
              className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={onAdd} aria-label="Add a sign-in provider" className="mt-4 grid gap-2 sm:grid-cols-2">
        <label className="text-sm">
          <span className={label}>Name (on the button)</span>
          <input name="name" required maxLength={40} className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Issuer URL</span>
          <input name="issuer" required placeholder="https://id.example.com/realms/team" className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Client id</span>
          <input name="clientId" required className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Client secret (never shown again)</span>
          <input name="clientSecret" type="password" required autoComplete="off" className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Scopes</span>
          <input name="scopes" placeholder="openid email profile groups" className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Role claim</span>
          <input name="roleClaim" placeholder="groups" className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Claim values to roles (none matching: refused)</span>
          <input name="roleMap" required placeholder="hangar-admins=admin, dev=operator" className={`${field} w-full`} />
        </label>
        <label className="text-sm">
          <span className={label}>Allowed email domains (empty: any)</span>
          <input name="domains" placeholder="example.com" className={`${field} w-full`} />
        </label>
        <div>
          <button type="submit" className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600">
            Add provider
          </button>
        </div>
      </form>
      {settings && (
        <form
          aria-label="Password logins"
          className="mt-6 flex flex-wrap items-end gap-3 text-sm"
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            local.mutate({ localLogin: f.get('localLogin') === 'on', breakGlassAdmin: String(f.get('breakGlassAdmin')) });
          }}
        >
          <label className="flex items-center gap-2">
            <input type="checkbox" name="localLogin" defaultChecked={settings.localLogin} />
            Password logins for everyone
          </label>
          <label>
            <span className={label}>Break-glass admin (always may use a password)</span>
            <input name="breakGlassAdmin" defaultValue={settings.breakGlassAdmin} className={field} />
          </label>
          <button type="submit" className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800">
            Save
          </button>
        </form>
      )}
    </Section>
  );
}
