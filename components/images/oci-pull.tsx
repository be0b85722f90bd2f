'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import type { Image } from '@/lib/contracts/images';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** Images -> Pull: a ref from a registry, pulled by a job (its layers' progress on the Jobs page). */
export function OciPull() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const [ref, setRef] = useState('');
  const file = useRef<HTMLInputElement>(null);
  const upload = useMutation({
    mutationFn: (f: File) => api.images.importArchive(f, f.name),
    onSuccess: (job) => {
      toast('info', job.state === 'succeeded' ? 'That image is here already: nothing to copy.' : `${job.title}: follow it on the Jobs page.`);
      void qc.invalidateQueries({ queryKey: keys.images() });
    },
    onError: (err) => toast('error', err.message),
    onSettled: () => {
      if (file.current) file.current.value = '';
    },
  });
  const pull = useMutation({
    mutationFn: (r: string) => api.images.pull({ ref: r }),
    onSuccess: (job) => {
      toast('info', job.state === 'succeeded' ? 'Already pulled: nothing to copy.' : `${job.title}: follow it on the Jobs page.`);
      setRef('');
      void qc.invalidateQueries({ queryKey: keys.images() });
    },
    onError: (err) => toast('error', err.message),
  });
  if (!me || !hasRole(me.role, 'operator')) return null;
  return (
    <form
      className="flex flex-wrap items-end gap-3 rounded-xl border border-zinc-200 bg-white p-4 text-sm dark:border-zinc-800 dark:bg-zinc-900/40"
      onSubmit={(e) => {
        e.preventDefault();
        if (ref.trim()) pull.mutate(ref.trim());
      }}
    >
      <label className="flex min-w-64 flex-1 flex-col gap-1">
        <span className="font-medium">Pull an image from a registry</span>
        <input
          value={ref}
          onChange={(e) => setRef(e.target.value)}
          placeholder="docker://registry.example.org/team/app:1.0, alpine:3.20, name@sha256:…"
          className="rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900"
          data-testid="pull-ref"
        />
      </label>
      <button type="submit" disabled={pull.isPending || !ref.trim()} className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white disabled:opacity-60">
        Pull
      </button>
      <input
        ref={file}
        type="file"
        accept=".tar,application/x-tar"
        className="hidden"
        aria-label="Image archive to import"
        data-testid="import-archive"
        onChange={(e) => e.target.files?.[0] && upload.mutate(e.target.files[0])}
      />
      <button
        type="button"
        disabled={upload.isPending}
        title="A tar made by docker save, podman save or skopeo (docker-archive or oci-archive), one image"
        onClick={() => file.current?.click()}
        className="rounded-md border border-zinc-300 px-3 py-1.5 font-medium disabled:opacity-60 dark:border-zinc-700"
      >
        {upload.isPending ? 'Uploading…' : 'Import archive…'}
      </button>
    </form>
  );
}

const short = (d: unknown) => (typeof d === 'string' ? d.replace(/^sha256:/, '').slice(0, 12) : '');

/** What a pulled image's row says: its source, digest, what it runs and as whom. */
export function OciFacts({ img }: { img: Image }) {
  const r = img.recipe as {
    source?: string;
    digest?: string;
    created?: string | null;
    layers?: unknown[];
    config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; User?: string; WorkingDir?: string; ExposedPorts?: Record<string, unknown> | null };
  };
  const c = r.config ?? {};
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])].join(' ');
  const ports = Object.keys(c.ExposedPorts ?? {}).join(', ');
  return (
    <div className="mt-0.5 space-y-0.5 text-xs text-zinc-500 dark:text-zinc-400">
      <div className="truncate font-mono" title={r.source}>
        {r.source} · {short(r.digest)} · {r.layers?.length ?? 0} layer{r.layers?.length === 1 ? '' : 's'}
        {r.created ? ` · created ${r.created.slice(0, 10)}` : ''}
      </div>
      <div className="truncate font-mono" title={argv}>
        {argv || 'no command'}
        {c.User ? ` · user ${c.User}` : ''}
        {c.WorkingDir ? ` · in ${c.WorkingDir}` : ''}
        {ports ? ` · ports ${ports}` : ''}
      </div>
    </div>
  );
}
