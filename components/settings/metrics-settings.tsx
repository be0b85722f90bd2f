'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatAge } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

/** Settings -> Metrics (admins): the Prometheus scrape token for GET /metrics, shown once when made. */
export function MetricsSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const info = useQuery(queries(api).scrapeToken());
  const [token, setToken] = useState<string | null>(null);
  const done = () => void qc.invalidateQueries({ queryKey: keys.scrapeToken() });
  const make = useMutation({
    mutationFn: () => api.metrics.newToken(),
    onSuccess: (t) => (setToken(t.token), done()),
    onError: (err) => toast('error', err.message),
  });
  const remove = useMutation({ mutationFn: () => api.metrics.removeToken(), onSuccess: done, onError: (err) => toast('error', err.message) });
  return (
    <Section
      title="Metrics"
      description={
        <>
          Prometheus reads <code className="font-mono text-xs">/metrics</code> with this token as its bearer token (or an admin API token).
        </>
      }
    >
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <span className="flex-1">{info.data?.configured ? `A scrape token is set (made ${formatAge(info.data.createdAt ?? 0)}).` : 'No scrape token.'}</span>
        <button type="button" onClick={() => make.mutate()} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600">
          {info.data?.configured ? 'Replace token' : 'Make token'}
        </button>
        {info.data?.configured && (
          <button type="button" onClick={() => remove.mutate()} className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400">
            Remove
          </button>
        )}
      </div>
      {token && (
        <div className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950/40" role="alert">
          <p className="font-medium">Copy this scrape token now: it will not be shown again.</p>
          <code className="mt-2 block font-mono text-xs break-all select-all">{token}</code>
          <button type="button" className="mt-2 text-xs underline" onClick={() => setToken(null)}>
            Done
          </button>
        </div>
      )}
    </Section>
  );
}
