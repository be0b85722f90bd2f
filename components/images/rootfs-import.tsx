'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Image } from '@/lib/contracts/images';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { DownloadOrUpload } from './download-or-upload';

const field = 'rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * Images -> Import a root filesystem: a tarball (.tar, .tar.gz, .tar.xz, .tar.zst) from a file
 * uploaded here or a URL the server downloads, under a name of its own. The checks (paths out of
 * the root, devices, setuid files, the checksum) answer at once for an upload; a download's in its job.
 */
export function RootfsImport() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [sha256, setSha256] = useState('');
  const [allowSetuid, setAllowSetuid] = useState(false);
  const opts = () => ({ name: name.trim(), ...(sha256.trim() ? { sha256: sha256.trim() } : {}), allowSetuid });
  const started = {
    onSuccess: (job: { title: string }) => {
      toast('info', `${job.title}: follow it on the Jobs page.`);
      setUrl('');
      void qc.invalidateQueries({ queryKey: keys.images() });
    },
    onError: (err: Error) => toast('error', err.message),
  };
  const upload = useMutation({
    mutationFn: (f: File) => api.images.importRootfs(f, { ...opts(), file: f.name }),
    ...started,
  });
  const download = useMutation({ mutationFn: () => api.images.importRootfsUrl({ url: url.trim(), ...opts() }), ...started });
  if (!me || !hasRole(me.role, 'operator')) return null;
  const busy = upload.isPending || download.isPending;
  return (
    <form
      className="flex flex-wrap items-end gap-3 rounded-xl border border-zinc-200 bg-white p-4 text-sm dark:border-zinc-800 dark:bg-zinc-900/40"
      data-testid="rootfs-import"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && url.trim()) download.mutate();
      }}
    >
      <div className="w-full font-medium">Import a root filesystem tarball (.tar, .tar.gz, .tar.xz, .tar.zst) as an image</div>
      <label className="flex w-40 flex-col gap-1">
        <span>Image name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="alpine-rootfs" className={field} data-testid="rootfs-name" />
      </label>
      <label className="flex min-w-48 flex-1 flex-col gap-1">
        <span>From a URL</span>
        <input
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://example.org/rootfs.tar.xz"
          className={field}
          data-testid="rootfs-url"
        />
      </label>
      <label className="flex w-44 flex-col gap-1">
        <span>SHA-256 (optional)</span>
        <input value={sha256} onChange={(e) => setSha256(e.target.value)} placeholder="64 hex digits" className={field} data-testid="rootfs-sha256" />
      </label>
      <label className="flex items-center gap-1.5 py-1.5" title="An OS image's su, passwd and mount are setuid root; refused unless allowed">
        <input type="checkbox" checked={allowSetuid} onChange={(e) => setAllowSetuid(e.target.checked)} data-testid="rootfs-setuid" />
        Keep setuid
      </label>
      <DownloadOrUpload
        canDownload={!busy && !!name.trim() && !!url.trim()}
        canUpload={!busy && !!name.trim()}
        uploading={upload.isPending}
        accept=".tar,.gz,.tgz,.xz,.txz,.zst,.tzst,.bz2"
        fileLabel="Root filesystem tarball to upload"
        testId="rootfs-file"
        uploadLabel="Upload tarball…"
        uploadTitle={name.trim() ? 'A tarball of a root filesystem from this computer' : 'Name the image first'}
        onFile={(f) => upload.mutate(f)}
      />
    </form>
  );
}

/** What an imported root filesystem's row says: where it came from and its checksum. */
export function RootfsFacts({ img }: { img: Image }) {
  const r = img.recipe as { source?: string; sha256?: string; entries?: number; compression?: string; setuid?: number };
  return (
    <div className="mt-0.5 truncate font-mono text-xs text-zinc-500 dark:text-zinc-400" title={r.source}>
      root filesystem · {r.source} · sha256 {r.sha256?.slice(0, 12)} · {r.entries ?? 0} entries{r.compression ? ` · ${r.compression}` : ''}
      {r.setuid ? ` · ${r.setuid} setuid kept` : ''}
    </div>
  );
}
