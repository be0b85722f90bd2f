'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { JoinToken } from '@/lib/contracts/nodes';
import { formatAge } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

export const SOLO_REASON = 'Adding nodes needs PostgreSQL: this Hangar keeps its state in SQLite, which one host alone can use.';

function expiresIn(at: number, now = Date.now()): string {
  const m = Math.max(0, Math.round((at - now) / 60_000));
  return m < 60 ? `expires in ${m} min` : `expires in ${Math.round(m / 60)} h`;
}

/** The new token, shown once, with the exact line to run on the new node. */
function MadeToken({ made, onDone }: { made: JoinToken; onDone: () => void }) {
  const toast = useToast();
  return (
    <div className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950/40" role="alert">
      <p className="font-medium">Copy this now: the token will not be shown again. It works once, {expiresIn(made.expiresAt)}.</p>
      <p className="mt-2 text-xs text-zinc-600 dark:text-zinc-400">On the new node, with the same DATABASE_URL as this one:</p>
      <div className="mt-1 flex items-start gap-2">
        <code className="block flex-1 font-mono text-xs break-all select-all" data-testid="join-command">
          {made.command}
        </code>
        <button
          type="button"
          onClick={() => void navigator.clipboard?.writeText(made.command).then(() => toast('info', 'Join command copied.'))}
          className="rounded border border-zinc-300 px-2 py-1 text-xs dark:border-zinc-700"
        >
          Copy
        </button>
      </div>
      <button type="button" className="mt-2 text-xs underline" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** Join tokens: make one (a cluster only), see the open ones, revoke them. */
export function JoinTokens({ cluster }: { cluster: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const tokens = useQuery({ ...queries(api).joinTokens(), enabled: cluster });
  const [made, setMade] = useState<JoinToken | null>(null);
  const create = useMutation({
    mutationFn: () => api.nodes.createToken({}),
    onSuccess: (t) => {
      setMade(t);
      void qc.invalidateQueries({ queryKey: keys.joinTokens() });
    },
    onError: (err) => toast('error', err.message),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.nodes.revokeToken(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.joinTokens() }),
    onError: (err) => toast('error', err.message),
  });
  return (
    <Section
      title="Join tokens"
      description="A token lets one new node join this cluster: single use, valid 30 minutes."
      actions={
        <button
          type="button"
          disabled={!cluster || create.isPending}
          title={cluster ? undefined : SOLO_REASON}
          aria-describedby={cluster ? undefined : 'join-disabled-reason'}
          onClick={() => create.mutate()}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:cursor-not-allowed disabled:opacity-50"
        >
          Join token
        </button>
      }
    >
      {!cluster && (
        <p id="join-disabled-reason" className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="join-disabled-reason">
          {SOLO_REASON}
        </p>
      )}
      {made && <MadeToken made={made} onDone={() => setMade(null)} />}
      {cluster && (
        <ul className="mt-2 divide-y divide-zinc-100 text-sm dark:divide-zinc-800" aria-label="Open join tokens">
          {tokens.data?.length === 0 && <li className="py-2 text-zinc-500 dark:text-zinc-400">No open tokens.</li>}
          {tokens.data?.map((t) => (
            <li key={t.id} className="flex flex-wrap items-center gap-3 py-2" data-testid="join-token">
              <span className="flex-1 font-mono text-xs">{t.id}</span>
              <span className="text-xs text-zinc-500 dark:text-zinc-400">
                made {formatAge(t.createdAt)}
                {t.createdBy ? ` by ${t.createdBy}` : ''}
              </span>
              <span className="text-xs text-zinc-500 dark:text-zinc-400">{expiresIn(t.expiresAt)}</span>
              <button
                type="button"
                onClick={() => revoke.mutate(t.id)}
                className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
