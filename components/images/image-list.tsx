'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { imageKinds, type ImageKind } from '@/lib/contracts/images';
import { formatAge, formatBytes } from '@/lib/format';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { EmptyState } from '@/components/ui/empty-state';
import { StateBadge } from '@/components/machines/state-badge';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { DiskFacts, DiskImport } from './disk-import';
import { OciFacts, OciPull } from './oci-pull';
import { RootfsFacts, RootfsImport } from './rootfs-import';

const about: Record<ImageKind, string> = {
  busybox: 'Debian kernel + busybox initramfs: boots to a shell in seconds. Good for trying things and for tests.',
  'debian-12': 'Debian 12 (bookworm) with systemd and OpenSSH, from your apt mirror: SSH terminal, root login by key. Takes a few minutes to build.',
  'debian-13': 'Debian 13 (trixie), built the same way from the same mirror: systemd, OpenSSH, root login by key. Takes a few minutes to build.',
};

export function ImageList() {
  const confirm = useConfirm();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  // Events keep the list current; while an image builds it is also re-read every few seconds, since a
  // list fetched just before the build ended can land after its 'ready' event and undo it.
  const images = useQuery({ ...queries(api).images(), refetchInterval: (q) => (q.state.data?.some((i) => i.state === 'building') ? 3000 : false) });
  // Which machines each image is in use by (a member sees the ones given to them).
  const machines = useQuery(queries(api).machines()).data ?? [];
  // One pass over the machines, not one per image and per use below.
  const users = new Map<string, string[]>();
  for (const m of machines) users.set(m.image, [...(users.get(m.image) ?? []), m.name]);
  const usersOf = (name: string) => users.get(name) ?? [];
  const build = useMutation({
    mutationFn: (kind: ImageKind) => api.images.build({ kind }),
    onSuccess: () => {
      toast('info', 'Build started: follow it on the Jobs page.');
      void qc.invalidateQueries({ queryKey: keys.images() });
    },
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.images.remove(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.images() }),
    onError: (err) => toast('error', err.message),
  });
  const canBuild = !!me && hasRole(me.role, 'operator');
  if (images.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading images…</p>;
  if (images.error) return <p className="text-sm text-red-600">Could not load images: {images.error.message}</p>;
  const built = new Set(images.data.map((i) => i.name));
  const buildable = imageKinds.filter((k) => !built.has(k));
  const kindOf = (k: string): k is ImageKind => (imageKinds as readonly string[]).includes(k);

  return (
    <div className="space-y-6">
      <OciPull />
      <RootfsImport />
      <DiskImport />
      {images.data.length === 0 && (
        <EmptyState icon="images" title="No images yet">
          <p>Build one below. Builds run as jobs, with progress and logs on the Jobs page, and are cached under the data dir.</p>
        </EmptyState>
      )}
      {images.data.length > 0 && (
        <ul
          className={`divide-y divide-zinc-100 overflow-hidden rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800
          dark:border-zinc-800 dark:bg-zinc-900/40`}
        >
          {images.data.map((img) => (
            <li key={img.id} className="flex flex-wrap items-center gap-3 px-4 py-3" data-testid="image-row" data-image={img.name} data-state={img.state}>
              <div className="min-w-0 flex-1">
                <div className="text-sm font-medium">{img.name}</div>
                <div className="text-xs text-zinc-500 dark:text-zinc-400">
                  {formatBytes(img.sizeBytes)} · {typeof img.recipe.kernel === 'string' ? `kernel ${img.recipe.kernel} · ` : ''}
                  {formatAge(img.updatedAt)}
                  {usersOf(img.name).length > 0 && (
                    <span data-testid="image-users">
                      {' '}
                      · in use by {usersOf(img.name).slice(0, 3).join(', ')}
                      {usersOf(img.name).length > 3 ? ` and ${usersOf(img.name).length - 3} more` : ''}
                    </span>
                  )}
                </div>
                {img.kind === 'oci' && <OciFacts img={img} />}
                {img.kind === 'rootfs' && <RootfsFacts img={img} />}
                {img.kind === 'disk' && <DiskFacts img={img} />}
              </div>
              <StateBadge state={img.state === 'ready' ? 'succeeded' : img.state === 'building' ? 'running' : 'failed'} label={img.state} />
              {canBuild && img.state !== 'building' && (
                <button
                  type="button"
                  disabled={usersOf(img.name).length > 0}
                  title={usersOf(img.name).length > 0 ? 'In use: destroy the machines made from it first' : undefined}
                  onClick={async () =>
                    (await confirm({
                      title: `Delete image ${img.name}?`,
                      body: 'Its files are removed; machines made from it must be destroyed first.',
                      confirmLabel: 'Delete',
                      danger: true,
                    })) && remove.mutate(img.id)
                  }
                  className={`rounded-md px-2 py-1 text-xs font-medium text-red-600 hover:bg-red-50 disabled:cursor-not-allowed disabled:opacity-40
                    dark:text-red-400 dark:hover:bg-red-950/40`}
                >
                  Delete
                </button>
              )}
              {canBuild && img.state === 'failed' && (
                <button
                  type="button"
                  onClick={() => kindOf(img.kind) && build.mutate(img.kind)}
                  className="rounded-md border border-zinc-300 px-2 py-1 text-xs dark:border-zinc-700"
                >
                  Retry
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canBuild && buildable.length > 0 && (
        <div className="grid gap-3 sm:grid-cols-2">
          {buildable.map((kind) => (
            <div key={kind} className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40">
              <div className="text-sm font-semibold">{kind}</div>
              <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{about[kind]}</p>
              <button
                type="button"
                onClick={() => build.mutate(kind)}
                disabled={build.isPending}
                className="mt-3 rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
              >
                Build {kind}
              </button>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
