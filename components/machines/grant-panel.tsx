'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import type { GrantRole } from '@/lib/contracts/grants';
import { formatAge } from '@/lib/format';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const what: Record<GrantRole, string> = {
  owner: 'owner (operates, shares, grants, destroys)',
  operator: 'operator (start, stop, console, checkpoint)',
  viewer: 'viewer (watches)',
};

/** People given this machine: a teammate can operate it without the operator role over every machine. */
export function GrantPanel({ machineId, machineName }: { machineId: string; machineName: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const grants = useQuery({ queryKey: keys.grants(machineId), queryFn: async () => (await api.grants.list(machineId)).items });
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.grants(machineId) });
  const put = useMutation({
    mutationFn: (b: { username: string; role: GrantRole }) => api.grants.put(machineId, b),
    onSuccess: (g) => {
      toast('info', `${g.username} is ${g.role} of ${machineName}.`);
      refresh();
    },
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api.grants.remove(machineId, userId),
    onSuccess: refresh,
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    put.mutate({ username: String(f.get('username')), role: f.get('role') as GrantRole });
    e.currentTarget.reset();
  }
  return (
    <section aria-label="People" className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
      <h2 className="text-sm font-semibold">People on {machineName}</h2>
      <p className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">
        Give a teammate this machine: their role here, whatever their role elsewhere. They open it at /machines/{machineName}.
      </p>
      <form onSubmit={onSubmit} aria-label="Give access" className="mt-3 flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Username</span>
          <input name="username" required pattern="[a-z][a-z0-9._\-]{1,31}" placeholder="sam" className={field} />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Role here</span>
          <select name="role" defaultValue="operator" className={field}>
            {(['operator', 'owner', 'viewer'] as const).map((r) => (
              <option key={r} value={r}>
                {what[r]}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          disabled={put.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Give access
        </button>
      </form>
      <ul aria-label="Grants" className="mt-3 divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
        {grants.data?.map((g) => (
          <li key={g.userId} data-grant={g.username} className="flex items-center gap-3 py-2">
            <span className="flex-1 font-medium">{g.username}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">{g.role}</span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">since {formatAge(g.createdAt)}</span>
            <button
              type="button"
              onClick={() => remove.mutate(g.userId)}
              className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
