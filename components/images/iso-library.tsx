'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatAge, formatBytes } from '@/lib/format';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { DownloadOrUpload } from './download-or-upload';

const field = 'rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** A library name from a file's name: what the server accepts (letters, digits, . _ + -). */
export const isoNameOf = (file: string) => file.replace(/[^A-Za-z0-9._+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');

/** Upload an ISO from this computer into the library (checked ISO 9660 or UDF by the server); used by New machine too. */
export function useIsoUpload(onDone?: (name: string) => void) {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ file, name }: { file: File; name: string }) => api.isos.upload(file, name),
    onSuccess: (iso) => {
      toast('info', `${iso.name} is in the ISO library (${formatBytes(iso.sizeBytes)}).`);
      void qc.invalidateQueries({ queryKey: keys.isos() });
      onDone?.(iso.name);
    },
    onError: (err) => toast('error', err.message),
  });
}

/**
 * Images -> ISOs: installer images for "Install from ISO" machines, with their sizes and the
 * machines that have each in their CD-ROM drive (those cannot be deleted). Added by upload or
 * by a URL the server downloads (a job); the server keeps only ISO 9660 or UDF images within the cap.
 */
export function IsoLibrary() {
  const qc = useQueryClient();
  const toast = useToast();
  const confirm = useConfirm();
  const me = useQuery(queries(api).me()).data;
  const isos = useQuery({ ...queries(api).isos(), refetchInterval: 5000 });
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const upload = useIsoUpload();
  const download = useMutation({
    mutationFn: () => api.isos.download({ name: name.trim() || isoNameOf(url.split('/').pop() ?? ''), url: url.trim() }),
    onSuccess: (job) => {
      toast('info', `${job.title}: follow it on the Jobs page.`);
      setUrl('');
      setName('');
    },
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({
    mutationFn: (n: string) => api.isos.remove(n),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.isos() }),
    onError: (err) => toast('error', err.message),
  });
  const operator = !!me && hasRole(me.role, 'operator');
  const list = isos.data ?? [];
  return (
    <section className="space-y-3" aria-labelledby="isos-heading" data-testid="iso-library">
      <div>
        <h2 id="isos-heading" className="text-base font-semibold">
          ISOs
        </h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Installer images for VMs made with “Install from ISO”: kept under the data dir.</p>
      </div>
      {isos.error && <p className="text-sm text-red-600">Could not load ISOs: {isos.error.message}</p>}
      {list.length === 0 && !isos.isPending && <p className="text-sm text-zinc-500 dark:text-zinc-400">No ISOs yet.</p>}
      {list.length > 0 && (
        <ul
          className={`divide-y divide-zinc-100 overflow-hidden rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800
          dark:border-zinc-800 dark:bg-zinc-900/40`}
        >
          {list.map((iso) => (
            <li key={iso.id} className="flex flex-wrap items-center gap-3 px-4 py-3" data-testid="iso-row" data-iso={iso.name}>
              <div className="min-w-0 flex-1">
                <div className="truncate font-mono text-sm font-medium">{iso.name}</div>
                <div className="truncate text-xs text-zinc-500 dark:text-zinc-400" title={iso.source}>
                  {formatBytes(iso.sizeBytes)} · {iso.format === 'udf' ? 'UDF' : 'ISO 9660'} · {iso.source} · {formatAge(iso.createdAt)}
                </div>
              </div>
              {iso.usedBy.length > 0 ? (
                <span
                  className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-900/40 dark:text-amber-200"
                  data-testid="iso-in-use"
                >
                  in use by {iso.usedBy.join(', ')}
                </span>
              ) : (
                <span className="text-xs text-zinc-500 dark:text-zinc-400">not in use</span>
              )}
              {operator && (
                <button
                  type="button"
                  disabled={iso.usedBy.length > 0}
                  title={iso.usedBy.length > 0 ? 'In a CD-ROM drive: eject it (or destroy the machine) first' : undefined}
                  onClick={async () =>
                    (await confirm({
                      title: `Delete ISO ${iso.name}?`,
                      body: 'Its file is removed from the data dir.',
                      confirmLabel: 'Delete',
                      danger: true,
                    })) && remove.mutate(iso.name)
                  }
                  className={`rounded-md px-2 py-1 text-xs font-medium text-red-600 hover:bg-red-50 disabled:cursor-not-allowed disabled:opacity-40
                    dark:text-red-400 dark:hover:bg-red-950/40`}
                >
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {operator && (
        <form
          className="flex flex-wrap items-end gap-3 rounded-xl border border-zinc-200 bg-white p-4 text-sm dark:border-zinc-800 dark:bg-zinc-900/40"
          data-testid="iso-add"
          onSubmit={(e) => {
            e.preventDefault();
            if (url.trim()) download.mutate();
          }}
        >
          <div className="w-full font-medium">Add an ISO (ISO 9660 or UDF)</div>
          <label className="flex w-48 flex-col gap-1">
            <span>Name (optional)</span>
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="debian-12.iso" className={field} data-testid="iso-name" />
          </label>
          <label className="flex min-w-48 flex-1 flex-col gap-1">
            <span>From a URL</span>
            <input
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.org/installer.iso"
              className={field}
              data-testid="iso-url"
            />
          </label>
          <DownloadOrUpload
            canDownload={!download.isPending && !!url.trim()}
            canUpload={!upload.isPending}
            uploading={upload.isPending}
            accept=".iso,.img"
            fileLabel="ISO to upload"
            testId="iso-file"
            uploadLabel="Upload ISO…"
            onFile={(f) => upload.mutate({ file: f, name: name.trim() || isoNameOf(f.name) })}
          />
        </form>
      )}
    </section>
  );
}
