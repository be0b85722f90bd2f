'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';
import { WebhookDeliveries } from './webhook-deliveries';
import { WebhookForm } from './webhook-form';

/** Settings -> Webhooks (admins): add, list, switch off, delete; each hook's last deliveries; whether private targets are allowed. */
export function WebhookSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const hooks = useQuery(queries(api).webhooks());
  const settings = useQuery(queries(api).settings());
  const [open, setOpen] = useState<string | null>(null);
  const done = () => void qc.invalidateQueries({ queryKey: keys.webhooks() });
  const update = useMutation({
    mutationFn: (v: { id: string; enabled: boolean }) => api.webhooks.update(v.id, { enabled: v.enabled }),
    onSuccess: done,
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({ mutationFn: (id: string) => api.webhooks.remove(id), onSuccess: done, onError: (err) => toast('error', err.message) });
  // Shown as clicked at once (the server's answer follows); put back if the change is refused.
  const [allow, setAllow] = useState<boolean | null>(null);
  const allowPrivate = useMutation({
    mutationFn: (on: boolean) => api.settings.update({ webhookAllowPrivate: on }),
    onSuccess: (s) => qc.setQueryData(keys.settings(), s),
    onError: (err) => (setAllow(null), toast('error', err.message)),
  });
  return (
    <Section
      title="Webhooks"
      description={
        <>
          Events as signed JSON POSTs: check <code className="font-mono text-xs">Hangar-Signature: t=TIME,v1=HMAC</code> (HMAC-SHA256 of{' '}
          <code className="font-mono text-xs">TIME.BODY</code> with the secret). Failed deliveries are retried with backoff.
        </>
      }
    >
      <WebhookForm />
      <label className="mt-4 flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          checked={allow ?? !!settings.data?.webhookAllowPrivate}
          onChange={(e) => (setAllow(e.target.checked), allowPrivate.mutate(e.target.checked))}
        />
        Allow webhooks to this host, loopback and link-local addresses (off: refused, against SSRF)
      </label>
      <ul className="mt-4 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Webhooks">
        {hooks.data?.length === 0 && <li className="py-2 text-zinc-500 dark:text-zinc-400">No webhooks yet.</li>}
        {hooks.data?.map((w) => (
          <li key={w.id} className="py-2" data-testid="webhook">
            <div className="flex flex-wrap items-center gap-3">
              <span className="min-w-0 flex-1 truncate font-mono text-xs" title={w.url}>
                {w.url}
              </span>
              <span className="text-xs text-zinc-500 dark:text-zinc-400">{w.events.length} events</span>
              <button
                type="button"
                className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
                onClick={() => setOpen(open === w.id ? null : w.id)}
              >
                {open === w.id ? 'Hide deliveries' : 'Deliveries'}
              </button>
              <button
                type="button"
                className="rounded px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
                onClick={() => update.mutate({ id: w.id, enabled: !w.enabled })}
              >
                {w.enabled ? 'Turn off' : 'Turn on'}
              </button>
              <button
                type="button"
                onClick={() => remove.mutate(w.id)}
                className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
              >
                Delete
              </button>
            </div>
            <p className="mt-1 font-mono text-[11px] text-zinc-500 dark:text-zinc-400">{w.events.join(' ')}</p>
            {open === w.id && <WebhookDeliveries webhookId={w.id} />}
          </li>
        ))}
      </ul>
    </Section>
  );
}
