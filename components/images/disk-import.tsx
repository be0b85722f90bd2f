'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Image } from '@/lib/contracts/images';
import { formatBytes } from '@/lib/format';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { DownloadOrUpload } from './download-or-upload';

const field = 'rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * Images -> Import a VM disk image: a qcow2 or raw disk uploaded here or downloaded by the server,
 * checked by qemu-img (format, virtual size, no backing file) before it is kept. Machines made
 * from it boot its own kernel and get a cloud-init seed (hostname, SSH keys, user-data).
 */
export function DiskImport() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [sha256, setSha256] = useState('');
  const opts = () => ({ name: name.trim(), ...(sha256.trim() ? { sha256: sha256.trim() } : {}) });
  const started = {
    onSuccess: (job: { title: string }) => {
      toast('info', `${job.title}: follow it on the Jobs page.`);
      setUrl('');
      void qc.invalidateQueries({ queryKey: keys.images() });
    },
    onError: (err: Error) => toast('error', err.message),
  };
  const upload = useMutation({
    mutationFn: (f: File) => api.images.importDisk(f, { ...opts(), file: f.name }),
    ...started,
  });
  const download = useMutation({ mutationFn: () => api.images.importDiskFrom({ url: url.trim(), ...opts() }), ...started });
  if (!me || !hasRole(me.role, 'operator')) return null;
  const busy = upload.isPending || download.isPending;
  return (
    <form
      className="flex flex-wrap items-end gap-3 rounded-xl border border-zinc-200 bg-white p-4 text-sm dark:border-zinc-800 dark:bg-zinc-900/40"
      data-testid="disk-import"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && url.trim()) download.mutate();
      }}
    >
      <div className="w-full font-medium">Import a VM disk image (qcow2 or raw, e.g. a cloud image with cloud-init)</div>
      <label className="flex w-40 flex-col gap-1">
        <span>Image name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="debian-cloud" className={field} data-testid="disk-name" />
      </label>
      <label className="flex min-w-48 flex-1 flex-col gap-1">
        <span>From a URL</span>
        <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.org/cloud.qcow2" className={field} data-testid="disk-url" />
      </label>
      <label className="flex w-44 flex-col gap-1">
        <span>SHA-256 (optional)</span>
        <input value={sha256} onChange={(e) => setSha256(e.target.value)} placeholder="64 hex digits" className={field} data-testid="disk-sha256" />
      </label>
      <DownloadOrUpload
        canDownload={!busy && !!name.trim() && !!url.trim()}
        canUpload={!busy && !!name.trim()}
        uploading={upload.isPending}
        accept=".qcow2,.img,.raw"
        fileLabel="Disk image to upload"
        testId="disk-file"
        uploadLabel="Upload disk…"
        uploadTitle={name.trim() ? 'A qcow2 or raw disk from this computer' : 'Name the image first'}
        onFile={(f) => upload.mutate(f)}
      />
    </form>
  );
}

/** What a disk image's row says: its format, virtual size, firmware, source and checksum. */
export function DiskFacts({ img }: { img: Image }) {
  const r = img.recipe as { source?: string; sha256?: string; format?: string; virtualBytes?: number; firmware?: string };
  return (
    <div className="mt-0.5 truncate font-mono text-xs text-zinc-500 dark:text-zinc-400" title={r.source} data-testid="disk-facts">
      VM disk · {r.format ?? '…'}
      {typeof r.virtualBytes === 'number' ? ` · ${formatBytes(r.virtualBytes)} virtual` : ''}
      {r.firmware ? ` · ${r.firmware === 'uefi' ? 'UEFI' : 'BIOS'}` : ''} · {r.source}
      {r.sha256 ? ` · sha256 ${r.sha256.slice(0, 12)}` : ''} · cloud-init seed per machine
    </div>
  );
}
