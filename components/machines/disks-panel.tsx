'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError } from '@/lib/api-client';
import type { AddDiskBody, MachineDisk, PatchDiskBody } from '@/lib/contracts/disks';
import type { Machine } from '@/lib/contracts/machines';
import { formatBytes } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const button =
  'rounded-md border border-zinc-300 px-2.5 py-1 text-sm font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800';
const label = 'mb-1 block text-xs text-zinc-600 dark:text-zinc-400';

/** The server's sentence, then what it said of each field. */
const problemsOf = (err: Error) => [err.message, ...(err instanceof ApiError && err.issues ? err.issues.map((i) => `${i.path}: ${i.message}`) : [])];

/**
 * The machine's extra disks (VMs) or volumes (containers) on its Overview: size, bus or guest
 * path, attached or not, with Add, Attach/Detach, Resize and Delete. What applies is the driver's
 * description (`capabilities.disks`), with its reasons where something does not.
 */
export function DisksPanel({ machine: m, canChange }: { machine: Machine; canChange: boolean }) {
  const caps = m.capabilities.disks;
  const qc = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const [problems, setProblems] = useState<string[]>([]);
  const [adding, setAdding] = useState(false);
  const [resizing, setResizing] = useState<string | null>(null);
  const list = useQuery({ ...queries(api).machineDisks(m.id), enabled: caps.available });
  const live = m.state === 'running' || m.state === 'paused';
  const volumes = caps.kind === 'volume';
  const refresh = () => qc.invalidateQueries({ queryKey: keys.machineDisks(m.id) });
  const add = useMutation({
    mutationFn: (b: Partial<AddDiskBody> & Pick<AddDiskBody, 'name'>) => api.machines.disks.add(m.id, b),
    onSuccess: (d) => {
      setProblems([]);
      setAdding(false);
      toast('success', `${d.name} added${d.attached && live ? ' and attached' : ''}`);
      void refresh();
    },
    onError: (err) => setProblems(problemsOf(err)),
  });
  const change = useMutation({
    mutationFn: ({ name, body }: { name: string; body: PatchDiskBody }) => api.machines.disks.change(m.id, name, body),
    onSuccess: (d) => {
      setProblems([]);
      toast('success', `${d.name}: ${d.attached ? 'attached' : 'detached'}${d.sizeGib ? `, ${d.sizeGib} GiB` : ''}`);
      void refresh();
    },
    onError: (err) => setProblems(problemsOf(err)),
  });
  const remove = useMutation({
    mutationFn: (name: string) => api.machines.disks.remove(m.id, name),
    onSuccess: (_r, name) => {
      setProblems([]);
      toast('info', `${name} deleted`);
      void refresh();
    },
    onError: (err) => setProblems(problemsOf(err)),
  });
  if (!caps.available) return null;
  const plugNote = live && !caps.hotplug.available ? caps.hotplug.reason : null;
  const canPlug = !plugNote;

  function onAdd(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const name = String(f.get('name'));
    add.mutate(
      volumes
        ? { name, guestPath: String(f.get('guestPath')), attach: canPlug }
        : { name, sizeGib: Number(f.get('sizeGib')), bus: f.get('bus') as AddDiskBody['bus'], attach: true },
    );
  }
  function onResize(e: FormEvent<HTMLFormElement>, d: MachineDisk) {
    e.preventDefault();
    setResizing(null);
    change.mutate({ name: d.name, body: { sizeGib: Number(new FormData(e.currentTarget).get('sizeGib')) } });
  }
  async function onDelete(d: MachineDisk) {
    const ok = await confirm({
      title: `Delete ${d.name}?`,
      body: volumes ? 'Its host directory and every file in it go.' : 'Its data goes (layers frozen in snapshots stay with them).',
      confirmLabel: 'Delete',
      danger: true,
    });
    if (ok) remove.mutate(d.name);
  }

  const items = list.data ?? [];
  return (
    <Section
      title={volumes ? 'Volumes' : 'Disks'}
      description={
        volumes
          ? 'Host directories under the data dir, bind-mounted into the container when it starts.'
          : 'Extra qcow2 disks beside the root disk: attached while the machine runs (hot-plug), kept in checkpoints and forks.'
      }
      actions={
        canChange && (
          <button type="button" className={button} onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
            {volumes ? 'Add volume' : 'Add disk'}
          </button>
        )
      }
    >
      <div className="space-y-3 text-sm" data-testid="disks-panel">
        {plugNote && <p className="text-zinc-600 dark:text-zinc-400">{plugNote}</p>}
        {adding && canChange && (
          <form onSubmit={onAdd} className="flex flex-wrap items-end gap-3" aria-label={volumes ? 'New volume' : 'New disk'}>
            <label>
              <span className={label}>Name</span>
              <input name="name" required pattern="[a-z0-9][a-z0-9\-]{0,31}" placeholder="data" className={`${field} w-40`} />
            </label>
            {volumes ? (
              <label>
                <span className={label}>Path in the guest</span>
                <input name="guestPath" required placeholder="/srv/data" className={`${field} w-56`} />
              </label>
            ) : (
              <>
                <label>
                  <span className={label}>Size (GiB)</span>
                  <input name="sizeGib" type="number" min={1} max={2048} required defaultValue={1} className={`${field} w-24`} />
                </label>
                <label>
                  <span className={label}>Bus</span>
                  <select name="bus" className={field} defaultValue={caps.buses[0]}>
                    {caps.buses.map((b) => (
                      <option key={b}>{b}</option>
                    ))}
                  </select>
                </label>
              </>
            )}
            <button type="submit" disabled={add.isPending} className={button}>
              {add.isPending ? 'Adding…' : 'Add'}
            </button>
          </form>
        )}
        {problems.length > 0 && (
          <div className="text-red-700 dark:text-red-400" role="alert">
            {problems.map((p) => (
              <p key={p}>{p}</p>
            ))}
          </div>
        )}
        {items.length === 0 ? (
          <p className="text-zinc-600 dark:text-zinc-400">{list.isLoading ? 'Loading…' : volumes ? 'No volumes.' : 'No extra disks.'}</p>
        ) : (
          <table className="w-full text-left">
            <thead className="text-xs text-zinc-600 dark:text-zinc-400">
              <tr>
                <th className="py-1.5 pr-4 font-medium">Name</th>
                <th className="py-1.5 pr-4 font-medium">{volumes ? 'Guest path' : 'Size'}</th>
                {!volumes && <th className="py-1.5 pr-4 font-medium">Bus</th>}
                <th className="py-1.5 pr-4 font-medium">State</th>
                <th className="py-1.5 pr-4 font-medium">On the host</th>
                {canChange && <th className="py-1.5 font-medium sr-only">Actions</th>}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {items.map((d) => (
                <tr key={d.name} data-testid="disk-row" data-disk={d.name}>
                  <td className="py-2 pr-4 font-mono">{d.name}</td>
                  <td className="py-2 pr-4">
                    {volumes ? (
                      <span className="font-mono">{d.guestPath}</span>
                    ) : resizing === d.name ? (
                      <form onSubmit={(e) => onResize(e, d)} className="flex items-center gap-2" aria-label={`Resize ${d.name}`}>
                        <input
                          name="sizeGib"
                          type="number"
                          min={d.sizeGib ?? 1}
                          max={2048}
                          defaultValue={(d.sizeGib ?? 1) + 1}
                          aria-label="New size (GiB)"
                          title="Disks only grow"
                          className={`${field} w-20`}
                          autoFocus
                        />
                        <button type="submit" className={button}>
                          Grow
                        </button>
                        <button type="button" className={button} onClick={() => setResizing(null)}>
                          Cancel
                        </button>
                      </form>
                    ) : (
                      `${d.sizeGib} GiB`
                    )}
                  </td>
                  {!volumes && <td className="py-2 pr-4">{d.bus}</td>}
                  <td className="py-2 pr-4">
                    <span className={d.attached ? 'text-emerald-700 dark:text-emerald-400' : 'text-zinc-600 dark:text-zinc-400'}>
                      {d.attached ? 'attached' : 'detached'}
                    </span>
                  </td>
                  <td className="py-2 pr-4 text-zinc-600 dark:text-zinc-400">{d.usedBytes === null ? '–' : formatBytes(d.usedBytes)}</td>
                  {canChange && (
                    <td className="py-2">
                      <div className="flex flex-wrap justify-end gap-2">
                        <button
                          type="button"
                          className={button}
                          disabled={!canPlug || change.isPending}
                          title={plugNote ?? undefined}
                          onClick={() => change.mutate({ name: d.name, body: { attached: !d.attached } })}
                        >
                          {d.attached ? 'Detach' : 'Attach'}
                        </button>
                        {caps.resize.available && (
                          <button type="button" className={button} disabled={change.isPending} onClick={() => setResizing(d.name)}>
                            Resize
                          </button>
                        )}
                        <button
                          type="button"
                          className={`${button} text-red-700 dark:text-red-400`}
                          disabled={d.attached || remove.isPending}
                          title={d.attached ? 'Detach it first' : undefined}
                          onClick={() => void onDelete(d)}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Section>
  );
}
