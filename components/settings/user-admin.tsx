'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { formatAge } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { hasRole, roles, type Role } from '@/lib/roles';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** Admins: people and their roles; passwords Hangar makes are shown once. */
export function UserAdmin() {
  const confirm = useConfirm();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const isAdmin = !!me && hasRole(me.role, 'admin');
  const users = useQuery({ ...queries(api).users(), enabled: isAdmin });
  const [shown, setShown] = useState<{ username: string; password: string } | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.users() });
  const create = useMutation({
    mutationFn: (b: { username: string; role: Role }) => api.users.create(b),
    onSuccess: (r) => {
      if (r.password) setShown({ username: r.user.username, password: r.password });
      refresh();
    },
    onError: (err) => toast('error', err.message),
  });
  const update = useMutation({
    mutationFn: ({ id, ...b }: { id: string; role?: Role; disabled?: boolean }) => api.users.update(id, b),
    onSuccess: refresh,
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.users.remove(id),
    onSuccess: refresh,
    onError: (err) => toast('error', err.message),
  });
  const reset = useMutation({
    mutationFn: (u: { id: string; username: string }) => api.users.resetPassword(u.id).then((r) => ({ ...u, password: r.password! })),
    onSuccess: (r) => setShown({ username: r.username, password: r.password }),
    onError: (err) => toast('error', err.message),
  });
  if (!isAdmin) return null;
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create.mutate({ username: String(f.get('username')), role: f.get('role') as Role });
    e.currentTarget.reset();
  }
  return (
    <Section
      title="Users"
      description={
        'Who may log in, and with which role: members see only the machines given to them, viewers watch ' +
        'everything, operators run machines, admins also manage users and settings.'
      }
    >
      <form onSubmit={onSubmit} aria-label="Add user" className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Username</span>
          <input
            name="username"
            required
            pattern="[a-z][a-z0-9._\-]{1,31}"
            title="2-32 of a-z 0-9 . _ -, starting with a letter"
            placeholder="alice"
            className={field}
          />
        </label>
        <label className="text-sm">
          <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Role</span>
          <select name="role" defaultValue="operator" className={field}>
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          disabled={create.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Add user
        </button>
      </form>
      {shown && (
        <div className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950/40" role="alert">
          <p className="font-medium">Password for {shown.username}: hand it over now, it will not be shown again.</p>
          <code className="mt-2 block font-mono text-xs break-all select-all" data-testid="new-password">
            {shown.password}
          </code>
          <button type="button" className="mt-2 text-xs underline" onClick={() => setShown(null)}>
            Done
          </button>
        </div>
      )}
      <ul className="mt-4 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Users">
        {users.data?.map((u) => (
          <li key={u.id} data-user={u.username} className="flex flex-wrap items-center gap-3 py-2">
            <span className={`min-w-28 flex-1 font-medium ${u.disabled ? 'text-zinc-500 dark:text-zinc-400 line-through' : ''}`}>
              {u.username}
              {u.id === me.user.id && <span className="ml-2 text-xs font-normal text-zinc-500 dark:text-zinc-400">(you)</span>}
            </span>
            <span className="text-xs text-zinc-500 dark:text-zinc-400">added {formatAge(u.createdAt)}</span>
            <select
              aria-label={`Role of ${u.username}`}
              value={u.role}
              disabled={u.id === me.user.id}
              onChange={(e) => update.mutate({ id: u.id, role: e.target.value as Role })}
              className={`${field} py-1 text-xs`}
            >
              {roles.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            {u.id !== me.user.id && (
              <>
                <button
                  type="button"
                  onClick={() => update.mutate({ id: u.id, disabled: !u.disabled })}
                  className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
                >
                  {u.disabled ? 'Enable' : 'Disable'}
                </button>
                <button
                  type="button"
                  onClick={() => reset.mutate({ id: u.id, username: u.username })}
                  className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
                >
                  Reset password
                </button>
                <button
                  type="button"
                  onClick={async () =>
                    (await confirm({
                      title: `Delete ${u.username}?`,
                      body: 'Their sessions and tokens end; their machines stay.',
                      confirmLabel: 'Delete',
                      danger: true,
                    })) && remove.mutate(u.id)
                  }
                  className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
                >
                  Delete
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}
