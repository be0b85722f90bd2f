'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent } from 'react';
import { limitKeys, limitWords, noLimits, type LimitOverrides, type Limits, type RoleLimits } from '@/lib/contracts/limits';
import { limitRows } from '@/lib/limits-format';
import { keys, queries } from '@/lib/queries';
import { roles } from '@/lib/roles';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

const field = 'w-24 rounded-md border border-zinc-300 bg-white px-2 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900';

/** A limit field: empty is "no limit" for a role and "the role's" for a user; "none" lifts it for a user. */
function parse(v: FormDataEntryValue | null): number | null | undefined {
  const s = String(v ?? '').trim();
  if (s === '') return undefined;
  if (/^(none|no limit|-)$/i.test(s)) return null;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Admins: limits per role (Settings) and per user, with what each user holds. */
export function UserLimits() {
  const qc = useQueryClient();
  const toast = useToast();
  const settings = useQuery(queries(api).settings()).data;
  const users = useQuery(queries(api).userLimits()).data;
  const saveRoles = useMutation({
    mutationFn: (roleLimits: RoleLimits) => api.settings.update({ roleLimits }),
    onSuccess: () => {
      toast('info', 'Role limits saved.');
      void qc.invalidateQueries({ queryKey: keys.settings() });
      void qc.invalidateQueries({ queryKey: keys.userLimits() });
      void qc.invalidateQueries({ queryKey: keys.myLimits() });
    },
    onError: (err) => toast('error', err.message),
  });
  const saveUser = useMutation({
    mutationFn: ({ id, overrides }: { id: string; overrides: LimitOverrides }) => api.limits.put(id, { overrides }),
    onSuccess: (r) => {
      toast('info', `Limits of ${r.username} saved.`);
      void qc.invalidateQueries({ queryKey: keys.userLimits() });
      void qc.invalidateQueries({ queryKey: keys.myLimits() });
    },
    onError: (err) => toast('error', err.message),
  });
  if (!settings || !users) return null;
  function onRoles(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const next = Object.fromEntries(
      roles.map((r) => [r, Object.fromEntries(limitKeys.map((k) => [k, parse(f.get(`${r}.${k}`)) ?? null])) as Limits]),
    ) as RoleLimits;
    saveRoles.mutate(next);
  }
  function onUser(e: FormEvent<HTMLFormElement>, id: string) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const overrides: LimitOverrides = {};
    for (const k of limitKeys) {
      const v = parse(f.get(k));
      if (v !== undefined) overrides[k] = v;
    }
    saveUser.mutate({ id, overrides });
  }
  return (
    <Section
      title="Limits"
      description={
        'What a user may hold at once: machines, vCPUs, memory and disk as configured on their machines (stopped ones too). ' +
        "Empty: no limit. Forks, chain builds and share links' machines count against their owner."
      }
    >
      <form onSubmit={onRoles} aria-label="Limits per role" className="overflow-x-auto">
        <table className="text-sm">
          <thead>
            <tr className="text-left text-xs text-zinc-500 dark:text-zinc-400">
              <th className="pr-3 font-normal">Role</th>
              {limitKeys.map((k) => (
                <th key={k} className="pr-3 font-normal">
                  {limitWords[k].name}
                  {limitWords[k].unit}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {roles.map((r) => (
              <tr key={r}>
                <td className="pr-3">{r}</td>
                {limitKeys.map((k) => (
                  <td key={k} className="py-1 pr-3">
                    <input
                      name={`${r}.${k}`}
                      aria-label={`${limitWords[k].name} of a ${r}`}
                      defaultValue={(settings.roleLimits[r] ?? noLimits)[k] ?? ''}
                      inputMode="numeric"
                      className={field}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <button type="submit" className="mt-2 rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600">
          Save role limits
        </button>
      </form>
      <ul className="mt-6 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Limits per user">
        {users.map((u) => (
          <li key={u.userId} data-user-limits={u.username} className="py-2">
            <div className="flex flex-wrap items-baseline gap-x-4 gap-y-1">
              <span className="min-w-28 font-medium">{u.username}</span>
              {limitRows(u.limits, u.usage).map((row) => (
                <span key={row.key} className={`text-xs ${row.full ? 'text-amber-700 dark:text-amber-400' : 'text-zinc-500 dark:text-zinc-400'}`}>
                  {row.name}: {row.text}
                </span>
              ))}
            </div>
            <form onSubmit={(e) => onUser(e, u.userId)} aria-label={`Own limits of ${u.username}`} className="mt-1 flex flex-wrap items-center gap-2">
              {limitKeys.map((k) => (
                <input
                  key={k}
                  name={k}
                  aria-label={`${limitWords[k].name} of ${u.username}`}
                  placeholder="role's"
                  defaultValue={u.overrides[k] === undefined ? '' : (u.overrides[k] ?? 'none')}
                  className={field}
                />
              ))}
              <button type="submit" className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800">
                Save
              </button>
            </form>
          </li>
        ))}
      </ul>
    </Section>
  );
}
