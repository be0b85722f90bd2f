'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { ApiError } from '@/lib/api-client';
import type { DriverInfo } from '@/lib/contracts/machines';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { FormActions } from '@/components/ui/form-actions';
import { fieldClass as field, MachineNameField } from './machine-name-field';

/**
 * Adopt a machine that exists already (a server, a cloud VM) over SSH, as `hangar adopt` does:
 * where its sshd listens and the private key to log in with (pasted or read from a file here, in
 * the browser; the server keeps it 0600 and never shows it again). The server logs in before it
 * records anything, pinning the host key; its refusal (unreachable, login refused, not a key) is
 * shown as it said it.
 */
export function AdoptForm({ driver, onDone }: { driver: DriverInfo; onDone: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [key, setKey] = useState('');
  const adopt = useMutation({
    mutationFn: (b: Parameters<typeof api.machines.adopt>[0]) => api.machines.adopt(b),
    onSuccess: (m) => {
      toast('info', `Adopted ${m.name}: Hangar reaches it over SSH`);
      void qc.invalidateQueries({ queryKey: keys.machines() });
      onDone();
      router.push(`/machines/${encodeURIComponent(m.name)}`);
    },
    onError: (err) => {
      // The server's words (why the login failed) above all; a field it names is marked too.
      const fields = err instanceof ApiError && err.issues ? Object.fromEntries(err.issues.map((i) => [i.path, i.message])) : {};
      setErrors({ ...fields, form: err.message });
    },
  });
  async function onFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    // A private key is a few KiB; anything much bigger is not one (the server takes 16 KiB at most).
    if (file) setKey(file.size > 16384 ? '' : await file.text());
    if (file && file.size > 16384) setErrors({ privateKey: `${file.name} is ${Math.round(file.size / 1024)} KiB: not a private key` });
  }
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setErrors({});
    const f = new FormData(e.currentTarget);
    const tags = String(f.get('tags') ?? '')
      .toLowerCase()
      .split(/[\s,]+/)
      .filter(Boolean);
    const passphrase = String(f.get('passphrase') ?? '');
    adopt.mutate({
      name: String(f.get('name')),
      ssh: String(f.get('ssh')).trim(),
      privateKey: key,
      ...(passphrase ? { passphrase } : {}),
      driver: driver.kind,
      tags: [...new Set(tags)],
    });
  }
  const err = (k: string) => errors[k] && <span className="mt-1 block text-xs text-red-600 dark:text-red-400">{errors[k]}</span>;
  return (
    <form onSubmit={onSubmit} className="grid gap-4 sm:grid-cols-6" aria-label="Adopt a machine over SSH">
      <p className="text-xs text-zinc-600 sm:col-span-6 dark:text-zinc-400">
        A server or VM that runs already, reached over SSH: exec, an SSH console, its logs and step chains through Hangar. Hangar does not start, stop or
        checkpoint it, and destroying it here only forgets it. Its host key is pinned at the first login.
      </p>
      <MachineNameField placeholder="db-1" error={errors.name} />
      <label className="text-sm font-medium sm:col-span-2">
        SSH <span className="font-normal text-zinc-600 dark:text-zinc-400">(user@host[:port])</span>
        <input name="ssh" required placeholder="root@10.0.0.5" className={`${field} font-mono`} autoComplete="off" spellCheck={false} />
        {err('ssh')}
      </label>
      <label className="text-sm font-medium sm:col-span-2">
        Tags <span className="font-normal text-zinc-600 dark:text-zinc-400">(optional)</span>
        <input name="tags" placeholder="db, prod" className={field} />
        {err('tags')}
      </label>
      <label className="text-sm font-medium sm:col-span-6">
        Private key <span className="font-normal text-zinc-600 dark:text-zinc-400">(OpenSSH or PEM; kept by the server, never shown again)</span>
        <textarea
          name="privateKey"
          required
          rows={4}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder={'-----BEGIN OPENSSH PRIVATE KEY-----\n…'}
          className={`${field} font-mono text-xs`}
          autoComplete="off"
          spellCheck={false}
        />
        {err('privateKey')}
      </label>
      <label className="text-sm sm:col-span-3">
        <span className="text-zinc-600 dark:text-zinc-400">or read it from a file: </span>
        <input type="file" aria-label="Private key file" onChange={(e) => void onFile(e)} className="text-sm" />
      </label>
      <label className="text-sm font-medium sm:col-span-3">
        Passphrase <span className="font-normal text-zinc-600 dark:text-zinc-400">(when the key has one; kept with it)</span>
        <input name="passphrase" type="password" autoComplete="off" className={field} />
        {err('passphrase')}
      </label>
      <FormActions label="Adopt" busyLabel="Logging in…" busy={adopt.isPending} onCancel={onDone} error={errors.form} className="sm:col-span-6" />
    </form>
  );
}
