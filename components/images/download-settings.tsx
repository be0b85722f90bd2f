'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** Whether image and ISO downloads may fetch from this host, loopback or link-local addresses (admins; off by default, against SSRF). */
export function DownloadPrivateSwitch() {
  const qc = useQueryClient();
  const toast = useToast();
  const settings = useQuery(queries(api).settings());
  // Shown as clicked at once (the server's answer follows); put back if the change is refused.
  const [allow, setAllow] = useState<boolean | null>(null);
  const save = useMutation({
    mutationFn: (on: boolean) => api.settings.update({ downloadAllowPrivate: on }),
    onSuccess: (s) => qc.setQueryData(keys.settings(), s),
    onError: (err) => (setAllow(null), toast('error', err.message)),
  });
  return (
    <label className="mb-4 flex items-center gap-2 text-sm">
      <input
        type="checkbox"
        checked={allow ?? !!settings.data?.downloadAllowPrivate}
        onChange={(e) => (setAllow(e.target.checked), save.mutate(e.target.checked))}
      />
      Allow image and ISO downloads from this host, loopback and link-local addresses (off: refused, against SSRF)
    </label>
  );
}

/** Settings → Registries: this Hangar's publishing key, and the keys of the Hangars whose published images it pulls (admins). */
export function TrustedPublishers() {
  const qc = useQueryClient();
  const toast = useToast();
  const settings = useQuery(queries(api).settings());
  const own = useQuery({ queryKey: ['image-signing-key'], queryFn: () => api.images.signingKey() });
  const [text, setText] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (keys: string[]) => api.settings.update({ imageTrustedKeys: keys }),
    onSuccess: (s) => {
      qc.setQueryData(keys.settings(), s);
      setText(null);
      toast('info', `${s.imageTrustedKeys.length} trusted publisher key(s).`);
    },
    onError: (err) => toast('error', err.message),
  });
  const shown = text ?? (settings.data?.imageTrustedKeys ?? []).join('\n');
  return (
    <div className="mb-4 space-y-2 text-sm" data-testid="trusted-publishers">
      <p>
        <span className="font-medium">This Hangar publishes images signed with</span>{' '}
        <code className="font-mono text-xs break-all">{own.data?.publicKey ?? '…'}</code>{' '}
        <span className="text-xs text-zinc-600 dark:text-zinc-400">({own.data?.fingerprint})</span>
      </p>
      <label className="flex flex-col gap-1">
        <span className="font-medium">Trusted publishers: keys of the Hangars whose published images this one pulls (one per line)</span>
        <textarea
          rows={2}
          value={shown}
          onChange={(e) => setText(e.target.value)}
          className="rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900"
        />
      </label>
      <button
        type="button"
        disabled={text === null}
        onClick={() => save.mutate(shown.split(/\s+/).filter(Boolean))}
        className="rounded-lg bg-zinc-900 px-3 py-1.5 font-medium text-white disabled:opacity-40 dark:bg-zinc-100 dark:text-zinc-900"
      >
        Save keys
      </button>
    </div>
  );
}
