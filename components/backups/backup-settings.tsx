'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';
import { BackupList } from './backup-list';
import { BackupTargetForm } from './backup-target-form';

/** Settings -> Backups (admins): targets, and what each holds (restore, delete). Backing up starts from a snapshot's Back up button. */
export function BackupSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const targets = useQuery(queries(api).backupTargets());
  const [open, setOpen] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => api.backups.removeTarget(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.backupTargets() }),
    onError: (err) => toast('error', err.message),
  });
  return (
    <Section
      title="Backups"
      description="Where snapshots are backed up: a directory on this host or an S3-compatible bucket. Disk layers already on a target are not sent again."
    >
      <BackupTargetForm />
      <ul className="mt-4 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Backup targets">
        {targets.data?.length === 0 && <li className="py-2 text-zinc-500 dark:text-zinc-400">No backup targets yet.</li>}
        {targets.data?.map((t) => (
          <li key={t.id} className="py-2" data-testid="backup-target" data-name={t.name}>
            <div className="flex flex-wrap items-center gap-3">
              <span className="font-medium">{t.name}</span>
              <span className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">{t.kind}</span>
              <span className="min-w-0 flex-1 truncate font-mono text-xs text-zinc-500 dark:text-zinc-400">
                {t.dir ? t.dir.path : `${t.s3!.endpoint ?? 'AWS'} · ${t.s3!.bucket}/${t.s3!.prefix} · key ${t.s3!.accessKeyId}`}
              </span>
              <button
                type="button"
                className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
                onClick={() => setOpen(open === t.id ? null : t.id)}
              >
                {open === t.id ? 'Hide backups' : 'Backups'}
              </button>
              <button
                type="button"
                onClick={() => remove.mutate(t.id)}
                title="Forget this target (what it holds stays there)"
                className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
              >
                Remove
              </button>
            </div>
            {open === t.id && <BackupList target={t.id} />}
          </li>
        ))}
      </ul>
    </Section>
  );
}
