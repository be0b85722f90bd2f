'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { CreateBackupTargetBody } from '@/lib/contracts/backups';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const label = 'mb-1 block text-xs text-zinc-500 dark:text-zinc-400';

/** Add a backup target: a host directory or an S3-compatible bucket. The server writes and deletes a test object before it saves. */
export function BackupTargetForm() {
  const qc = useQueryClient();
  const toast = useToast();
  const [kind, setKind] = useState<'dir' | 's3'>('dir');
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (b: CreateBackupTargetBody) => api.backups.addTarget(b),
    onSuccess: (t, _b) => {
      setError(null);
      toast('success', `Backup target added: ${t.name}`);
      void qc.invalidateQueries({ queryKey: keys.backupTargets() });
    },
    onError: (err) => setError(err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const v = (k: string) => String(f.get(k) ?? '').trim();
    const name = v('name');
    create.mutate(
      kind === 'dir'
        ? { kind, name, path: v('path') }
        : {
            kind,
            name,
            bucket: v('bucket'),
            ...(v('endpoint') ? { endpoint: v('endpoint') } : {}),
            ...(v('prefix') ? { prefix: v('prefix') } : {}),
            ...(v('region') ? { region: v('region') } : {}),
            accessKeyId: v('accessKeyId'),
            secretAccessKey: String(f.get('secretAccessKey') ?? ''),
          },
    );
  }
  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Add a backup target">
      <div className="flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className={label}>Name</span>
          <input name="name" required pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?" maxLength={63} placeholder="offsite" className={field} />
        </label>
        <label className="text-sm">
          <span className={label}>Kind</span>
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as 'dir' | 's3')} className={field}>
            <option value="dir">Directory on this host</option>
            <option value="s3">S3-compatible bucket</option>
          </select>
        </label>
        {kind === 'dir' ? (
          <label className="min-w-64 flex-1 text-sm">
            <span className={label}>Absolute path (exists, writable, outside the data dir)</span>
            <input name="path" required placeholder="/mnt/backups/hangar" className={`${field} w-full font-mono`} />
          </label>
        ) : (
          <>
            <label className="min-w-56 flex-1 text-sm">
              <span className={label}>Endpoint (empty: AWS)</span>
              <input name="endpoint" type="url" placeholder="https://s3.example.com" className={`${field} w-full`} />
            </label>
            <label className="text-sm">
              <span className={label}>Bucket</span>
              <input name="bucket" required className={field} />
            </label>
            <label className="text-sm">
              <span className={label}>Prefix</span>
              <input name="prefix" placeholder="hangar" className={field} />
            </label>
            <label className="text-sm">
              <span className={label}>Region</span>
              <input name="region" placeholder="us-east-1" className={`${field} w-28`} />
            </label>
            <label className="text-sm">
              <span className={label}>Access key id</span>
              <input name="accessKeyId" required autoComplete="off" className={field} />
            </label>
            <label className="text-sm">
              <span className={label}>Secret key (never shown again)</span>
              <input name="secretAccessKey" type="password" required autoComplete="new-password" className={field} />
            </label>
          </>
        )}
        <button
          type="submit"
          disabled={create.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          {create.isPending ? 'Testing…' : 'Add target'}
        </button>
      </div>
      {error && (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
    </form>
  );
}
