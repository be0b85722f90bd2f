'use client';

import { useState, type FormEvent } from 'react';
import { guestPathSchema } from '@/lib/contracts/files';
import type { Machine } from '@/lib/contracts/machines';
import { formatBytes } from '@/lib/format';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const input = [
  'w-full rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm',
  'dark:border-zinc-700 dark:bg-zinc-950 focus:outline-none focus:ring-2 focus:ring-sky-500',
].join(' ');
const button = 'rounded-lg bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 disabled:opacity-50 dark:bg-sky-600 dark:hover:bg-sky-500';

/** The file input's own button, styled like the form's other controls. */
const fileButton = [
  'file:mr-3 file:rounded-lg file:border file:border-zinc-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium',
  'file:text-zinc-800 hover:file:bg-zinc-50 dark:file:border-zinc-700 dark:file:bg-zinc-900 dark:file:text-zinc-100',
].join(' ');

const pathProblem = (p: string) => {
  const r = guestPathSchema.safeParse(p);
  return r.success ? null : r.error.issues[0].message;
};

/**
 * Files tab: upload a file into a directory of the running machine (the browser streams the File
 * as the request body) and download one by its path. Directories go with `hangar cp`.
 */
export function FilesPanel({ m }: { m: Machine }) {
  const toast = useToast();
  const [dir, setDir] = useState('/root');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [get, setGet] = useState('/etc/hostname');
  const target = file ? `${dir.replace(/\/+$/, '')}/${file.name}` : '';
  const upload = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setDone(null);
    try {
      const r = await api.machines.files.upload(m.id, target, file);
      setDone(`${r.path} (${formatBytes(r.bytes)})`);
      toast('success', `Uploaded ${file.name} to ${r.path}`);
    } catch (err) {
      toast('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const [fetching, setFetching] = useState(false);
  // Asked first, so a missing path or a directory is said here instead of a browser's failed download.
  const download = async () => {
    setFetching(true);
    try {
      const st = await api.machines.files.stat(m.id, get);
      if (st.type !== 'file') throw new Error(`${get} is a ${st.type}: download directories with hangar cp.`);
      const a = document.createElement('a');
      a.href = api.machines.files.contentUrl(m.id, get, true);
      a.download = get.split('/').pop() ?? 'file';
      a.click();
    } catch (err) {
      toast('error', err instanceof Error ? err.message : String(err));
    } finally {
      setFetching(false);
    }
  };
  const dirProblem = pathProblem(dir);
  const getProblem = pathProblem(get);
  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <section aria-labelledby="upload-title" className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40">
        <h2 id="upload-title" className="text-sm font-semibold">
          Upload a file
        </h2>
        <form onSubmit={upload} className="mt-3 space-y-3">
          <label className="block text-sm">
            Into the directory
            <input className={`${input} mt-1`} value={dir} onChange={(e) => setDir(e.target.value)} aria-invalid={!!dirProblem} name="upload-dir" />
          </label>
          {dirProblem && <p className="text-xs text-red-700 dark:text-red-400">{dirProblem}</p>}
          <label className="block text-sm">
            File
            <input
              type="file"
              className={`mt-1 block w-full text-sm ${fileButton}`}
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              data-testid="upload-file"
            />
          </label>
          <div className="flex items-center gap-3">
            <button type="submit" className={button} disabled={!file || busy || !!dirProblem}>
              {busy ? 'Uploading…' : 'Upload'}
            </button>
            {file && !busy && <span className="truncate font-mono text-xs text-zinc-600 dark:text-zinc-400">to {target}</span>}
          </div>
          {done && (
            <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="upload-done">
              Uploaded: {done}
            </p>
          )}
        </form>
      </section>
      <section aria-labelledby="download-title" className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40">
        <h2 id="download-title" className="text-sm font-semibold">
          Download a file
        </h2>
        <div className="mt-3 space-y-3">
          <label className="block text-sm">
            Path in the machine
            <input className={`${input} mt-1`} value={get} onChange={(e) => setGet(e.target.value)} aria-invalid={!!getProblem} name="download-path" />
          </label>
          {getProblem && <p className="text-xs text-red-700 dark:text-red-400">{getProblem}</p>}
          <button type="button" className={button} disabled={!!getProblem || fetching} onClick={download}>
            {fetching ? 'Looking…' : 'Download'}
          </button>
        </div>
        <p className="mt-4 text-xs text-zinc-600 dark:text-zinc-400">
          Directories, and files with their modes: <code className="font-mono">hangar cp {m.name}:/etc ./etc</code>,{' '}
          <code className="font-mono">hangar cp ./site {m.name}:/srv/</code>
        </p>
      </section>
    </div>
  );
}
