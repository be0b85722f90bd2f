'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { WEBHOOK_EVENTS, type WebhookEvent } from '@/lib/contracts/webhooks';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { ShownOnce } from '@/components/ui/shown-once';
import { useToast } from '@/components/shell/toasts';

const field = 'rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const families = ['machine', 'job', 'snapshot', 'share', 'user'] as const;

/** Add a webhook: URL, the events it wants, a secret (made by the server when left empty); the secret is shown once. */
export function WebhookForm() {
  const qc = useQueryClient();
  const toast = useToast();
  const [secret, setSecret] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Set<WebhookEvent>>(new Set(['machine.state', 'job.failed']));
  const create = useMutation({
    mutationFn: (b: { url: string; events: WebhookEvent[]; secret?: string }) => api.webhooks.create(b),
    onSuccess: (c) => {
      setSecret(c.secret);
      toast('success', `Webhook added: ${c.webhook.url}`);
      void qc.invalidateQueries({ queryKey: keys.webhooks() });
    },
    onError: (err) => toast('error', err.message),
  });
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = String(f.get('secret') ?? '').trim();
    create.mutate({ url: String(f.get('url')).trim(), events: [...chosen], ...(s ? { secret: s } : {}) });
  }
  const toggle = (ev: WebhookEvent) =>
    setChosen((cur) => {
      const next = new Set(cur);
      if (next.has(ev)) next.delete(ev);
      else next.add(ev);
      return next;
    });
  return (
    <>
      <form onSubmit={onSubmit} className="space-y-3" aria-label="Add a webhook">
        <div className="flex flex-wrap items-end gap-2">
          <label className="min-w-64 flex-1 text-sm">
            <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">URL (http or https)</span>
            <input name="url" type="url" required maxLength={2000} placeholder="https://example.com/hooks/hangar" className={`${field} w-full`} />
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Secret (empty: made for you)</span>
            <input name="secret" minLength={16} maxLength={200} autoComplete="off" className={field} />
          </label>
          <button
            type="submit"
            disabled={create.isPending || chosen.size === 0}
            className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
          >
            Add webhook
          </button>
        </div>
        <fieldset className="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-3 lg:grid-cols-5">
          <legend className="mb-1 text-xs text-zinc-500 dark:text-zinc-400">Events</legend>
          {families.map((fam) => (
            <div key={fam} className="space-y-1">
              {WEBHOOK_EVENTS.filter((e) => e.startsWith(`${fam}.`)).map((ev) => (
                <label key={ev} className="flex items-center gap-2">
                  <input type="checkbox" checked={chosen.has(ev)} onChange={() => toggle(ev)} />
                  <span className="font-mono text-xs">{ev}</span>
                </label>
              ))}
            </div>
          ))}
        </fieldset>
      </form>
      {secret && <ShownOnce what="the signing secret" value={secret} testId="new-webhook-secret" onDone={() => setSecret(null)} />}
    </>
  );
}
