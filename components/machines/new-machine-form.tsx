'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { ApiError } from '@/lib/api-client';
import { driverKindSchema, type DriverInfo, type DriverKind } from '@/lib/contracts/machines';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { FormActions } from '@/components/ui/form-actions';
import { fieldClass as field, MachineNameField } from './machine-name-field';
import { IsoInstallFields } from './iso-install-fields';

export function NewMachineForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const images = useQuery(queries(api).images());
  // What each driver can do here: its name in the list, whether this host has it, its networks.
  const drivers = useQuery(queries(api).drivers());
  // A cluster: which node makes it (one node lists only itself, and the choice is not shown). The node list is an
  // admin's (GET /api/nodes); others get the placement's choice (by load), or `hangar create --node`.
  const admin = useQuery(queries(api).me()).data?.user.role === 'admin';
  const nodes = useQuery({ ...queries(api).nodes(), enabled: admin }).data ?? [];
  const ready = images.data?.filter((i) => i.state === 'ready') ?? [];
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [kind, setKind] = useState<DriverKind | null>(null);
  // Drivers that make machines (an adopted one is registered with `hangar adopt`, not made here).
  const makers = drivers.data?.filter((d) => d.create.available);
  const usable = makers?.filter((d) => d.available) ?? [];
  const chosen = makers?.find((d) => d.kind === kind) ?? usable[0];
  // Start from an image, or install from an ISO (drivers whose description says `iso`).
  const [from, setFrom] = useState<'image' | 'iso'>('image');
  const fromIso = (from === 'iso' || (images.isSuccess && ready.length === 0)) && !!chosen?.iso.available;
  const create = useMutation({
    mutationFn: (b: Parameters<typeof api.machines.create>[0]) => api.machines.create(b),
    onSuccess: (job) => {
      toast('info', `${job.title}: started`);
      void qc.invalidateQueries({ queryKey: keys.machines() });
      onDone();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.issues) setErrors(Object.fromEntries(err.issues.map((i) => [i.path, i.message])));
      else setErrors({ form: err.message });
    },
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setErrors({});
    const f = new FormData(e.currentTarget);
    const driver = driverKindSchema.parse(f.get('driver'));
    const d = drivers.data?.find((x) => x.kind === driver);
    const ports = parsePorts(String(f.get('ports') ?? ''));
    if (typeof ports === 'string') return setErrors({ ports });
    const userData = String(f.get('userData') ?? '');
    const disk = ready.find((i) => i.name === f.get('image'))?.kind === 'disk';
    const network = f.get('network') === 'nat' ? 'nat' : f.get('network') === 'host' ? 'host' : 'private';
    const tags = String(f.get('tags') ?? '')
      .toLowerCase()
      .split(/[\s,]+/)
      .filter(Boolean);
    create.mutate({
      name: String(f.get('name')),
      driver,
      ...(fromIso
        ? { iso: String(f.get('iso')), diskGib: Number(f.get('diskGib')), firmware: f.get('firmware') === 'uefi' ? ('uefi' as const) : ('bios' as const) }
        : { image: String(f.get('image')), ...(disk && userData.trim() ? { userData } : {}) }),
      cpus: Number(f.get('cpus')),
      memoryMib: Number(f.get('memoryMib')),
      ports,
      tags: [...new Set(tags)],
      ...(f.get('node') ? { node: String(f.get('node')) } : {}),
      // A driver without networks to choose from (a VM's user-mode NAT) takes none.
      ...(d?.networks.length ? { network } : {}),
    });
  }
  if (images.isPending || drivers.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>;
  if (!chosen) {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400" role="note">
        No machine driver works on this host: {drivers.data?.map((d) => `${d.words.kind}: ${d.reason}`).join('; ') ?? drivers.error?.message}
      </p>
    );
  }
  if (ready.length === 0 && !chosen.iso.available) {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        No image is ready yet.{' '}
        <Link href="/images" className="font-medium text-sky-700 underline dark:text-sky-400">
          Build one on the Images page
        </Link>{' '}
        first.
      </p>
    );
  }
  const err = (k: string) => errors[k] && <span className="mt-1 block text-xs text-red-600 dark:text-red-400">{errors[k]}</span>;
  return (
    <form onSubmit={onSubmit} className="grid gap-4 sm:grid-cols-6" aria-label="New machine">
      <MachineNameField placeholder="web-1" error={errors.name} />
      <label className="text-sm font-medium sm:col-span-2">
        Kind
        <select name="driver" className={field} value={chosen.kind} onChange={(e) => setKind(driverKindSchema.parse(e.target.value))}>
          {makers?.map((d) => (
            <option key={d.kind} value={d.kind} disabled={!d.available} title={d.available ? undefined : (d.reason ?? undefined)}>
              {d.words.kind}
            </option>
          ))}
        </select>
        {err('driver')}
      </label>
      <label className="text-sm font-medium sm:col-span-2">
        Start from
        <select
          name="from"
          aria-label="Start from"
          className={field}
          value={fromIso ? 'iso' : 'image'}
          onChange={(e) => setFrom(e.target.value === 'iso' ? 'iso' : 'image')}
          data-testid="new-machine-from"
        >
          <option value="image">An image</option>
          <option value="iso" disabled={!chosen.iso.available} title={chosen.iso.reason ?? undefined}>
            Install from ISO
          </option>
        </select>
      </label>
      {fromIso && <IsoInstallFields driver={chosen} err={err} />}
      <label className={`text-sm font-medium sm:col-span-2 ${fromIso ? 'hidden' : ''}`}>
        Image
        <select name="image" className={field} key={chosen.kind}>
          {ready.map((i) => {
            // An image this kind of machine does not run stays listed, greyed, with the reason.
            const runs = chosen.imageKinds.includes(i.kind);
            const source = typeof i.recipe.source === 'string' ? i.recipe.source : null;
            return (
              <option key={i.id} value={i.name} disabled={!runs} title={runs ? undefined : `${chosen.words.kind} does not run ${i.kind} images`}>
                {source ? `${i.name} · ${source}` : i.name}
              </option>
            );
          })}
        </select>
        {err('image')}
      </label>
      {!fromIso && chosen.imageKinds.includes('disk') && ready.some((i) => i.kind === 'disk') && (
        <label className="text-sm font-medium sm:col-span-2">
          cloud-init user-data <span className="font-normal text-zinc-500 dark:text-zinc-400">(disk images; YAML, optional)</span>
          <textarea name="userData" rows={3} className={`${field} font-mono`} placeholder={'#cloud-config\npackages: [nginx]'} data-testid="user-data" />
          {err('userData')}
        </label>
      )}
      {nodes.length > 1 && (
        <label
          className="text-sm font-medium sm:col-span-2"
          title="Without a choice, the least loaded node that can take it; a node without the image copies it first"
        >
          Node
          <select name="node" className={field} defaultValue="" data-testid="new-machine-node">
            <option value="">Least loaded node</option>
            {nodes.map((n) => {
              const why = !n.online
                ? 'offline'
                : n.state === 'draining'
                  ? 'draining'
                  : n.drivers.length && !n.drivers.includes(chosen.kind)
                    ? `no ${chosen.kind}`
                    : null;
              return (
                <option key={n.id} value={n.name} disabled={!!why}>
                  {n.name}
                  {why ? ` (${why})` : ''}
                </option>
              );
            })}
          </select>
          {err('node')}
        </label>
      )}
      <label className="text-sm font-medium">
        vCPUs
        <input name="cpus" type="number" min={1} max={16} defaultValue={1} className={field} />
        {err('cpus')}
      </label>
      <label className="text-sm font-medium">
        Memory (MiB)
        <input name="memoryMib" type="number" min={64} max={65536} step={64} defaultValue={512} className={field} />
        {err('memoryMib')}
      </label>
      <label className="text-sm font-medium sm:col-span-2">
        Network <span className="font-normal text-zinc-500 dark:text-zinc-400">(containers)</span>
        <select
          name="network"
          className={field}
          defaultValue="private"
          disabled={chosen.networks.length === 0}
          title={chosen.networks.length === 0 ? `${chosen.words.kind}: a network of its own` : undefined}
        >
          {chosen.networks.map((n) => (
            <option key={n.mode} value={n.mode} disabled={!n.available} title={n.available ? undefined : (n.reason ?? undefined)}>
              {n.label}
            </option>
          ))}
        </select>
        {err('network')}
      </label>
      <label className="text-sm font-medium sm:col-span-2" title={forwardsTitle(chosen.portForwards)}>
        Forward ports <span className="font-normal text-zinc-500 dark:text-zinc-400">(host:guest)</span>
        <input name="ports" placeholder="8080:80, 2222:22" className={field} />
        {err('ports')}
      </label>
      <label className="text-sm font-medium sm:col-span-2" title="Labels to find and filter machines by, and to act on them together (hangar stop --tag web)">
        Tags <span className="font-normal text-zinc-600 dark:text-zinc-400">(optional)</span>
        <input name="tags" placeholder="web, ci" className={field} />
        {Object.entries(errors)
          .filter(([k]) => k.startsWith('tags'))
          .map(([k, v]) => (
            <span key={k} className="mt-1 block text-xs text-red-600 dark:text-red-400">
              {v}
            </span>
          ))}
      </label>
      <FormActions label="Create and start" busyLabel="Creating…" busy={create.isPending} onCancel={onDone} error={errors.form} className="sm:col-span-4" />
    </form>
  );
}

/** "8080:80, 2222:22" as port forwards, or what is wrong with it. */
function parsePorts(text: string): { host: number; guest: number; protocol: 'tcp' }[] | string {
  const out: { host: number; guest: number; protocol: 'tcp' }[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(part);
    if (!m) return `"${part}": write host:guest, like 8080:80`;
    out.push({ host: Number(m[1]), guest: Number(m[2]), protocol: 'tcp' });
  }
  return out;
}

/** What the forward-ports field does for the chosen driver, or why it does nothing. */
function forwardsTitle(f: DriverInfo['portForwards']): string | undefined {
  if (!f.available) return f.reason ?? undefined;
  return `Host ports on 127.0.0.1 forwarded to the machine${f.networks.length ? ` (network ${f.networks.join(' or ')})` : ''}`;
}
