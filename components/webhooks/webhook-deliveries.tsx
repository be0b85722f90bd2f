'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { formatAge } from '@/lib/format';
import type { WebhookDelivery } from '@/lib/contracts/webhooks';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

const tone: Record<WebhookDelivery['state'], string> = {
  succeeded: 'text-emerald-700 dark:text-emerald-400',
  failed: 'text-red-700 dark:text-red-400',
  retrying: 'text-amber-700 dark:text-amber-400',
  pending: 'text-zinc-600 dark:text-zinc-400',
};

/** A webhook's last deliveries (refreshed every few seconds while shown), each with Redeliver. */
export function WebhookDeliveries({ webhookId }: { webhookId: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery({ ...queries(api).webhookDeliveries(webhookId), refetchInterval: 3000 });
  const redeliver = useMutation({
    mutationFn: (deliveryId: string) => api.webhooks.redeliver(webhookId, deliveryId),
    onSuccess: () => {
      toast('success', 'Queued again.');
      void qc.invalidateQueries({ queryKey: keys.webhookDeliveries(webhookId) });
    },
    onError: (err) => toast('error', err.message),
  });
  if (list.isPending) return <p className="py-2 text-xs text-zinc-500 dark:text-zinc-400">Loading deliveries…</p>;
  if (!list.data?.length) return <p className="py-2 text-xs text-zinc-500 dark:text-zinc-400">No deliveries yet.</p>;
  return (
    <table className="mt-2 w-full text-left text-xs" aria-label="Deliveries">
      <thead className="text-zinc-500 dark:text-zinc-400">
        <tr>
          <th className="py-1 font-medium">Event</th>
          <th className="py-1 font-medium">State</th>
          <th className="py-1 font-medium">Response</th>
          <th className="py-1 font-medium">Duration</th>
          <th className="py-1 font-medium">Attempts</th>
          <th className="py-1 font-medium">When</th>
          <th className="py-1" />
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {list.data.map((d) => (
          <tr key={d.id} data-testid="webhook-delivery">
            <td className="py-1 font-mono">{d.event}</td>
            <td className={`py-1 font-medium ${tone[d.state]}`} title={d.error ?? undefined}>
              {d.state}
            </td>
            <td className="py-1">{d.responseCode ?? (d.error ? <span title={d.error}>none</span> : '-')}</td>
            <td className="py-1">{d.durationMs === null ? '-' : `${d.durationMs} ms`}</td>
            <td className="py-1">{d.attempts}</td>
            <td className="py-1">{formatAge(d.createdAt)}</td>
            <td className="py-1 text-right">
              <button type="button" className="rounded px-2 py-0.5 hover:bg-zinc-100 dark:hover:bg-zinc-800" onClick={() => redeliver.mutate(d.id)}>
                Redeliver
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
