'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

const input = 'w-32 rounded-lg border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** The step cache's limits: a disk budget and a maximum age (least recently used, unreferenced steps go first). */
export function StepCacheSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const settings = useQuery(queries(api).settings()).data;
  const [draft, setDraft] = useState<{ budget?: string; age?: string }>({});
  const save = useMutation({
    mutationFn: () =>
      api.settings.update({
        stepCacheBudgetMib: Number(draft.budget ?? settings?.stepCacheBudgetMib),
        stepCacheMaxAgeDays: Number(draft.age ?? settings?.stepCacheMaxAgeDays),
      }),
    onSuccess: (s) => {
      qc.setQueryData(keys.settings(), s);
      setDraft({});
      toast(
        'info',
        `Step cache: ${s.stepCacheBudgetMib ? `${s.stepCacheBudgetMib} MiB` : 'no budget'}, ` +
          `${s.stepCacheMaxAgeDays ? `unused steps kept ${s.stepCacheMaxAgeDays} days` : 'kept forever'}.`,
      );
    },
    onError: (err) => toast('error', err.message),
  });
  const isAdmin = !!me && hasRole(me.role, 'admin');
  return (
    <Section
      title="Step cache"
      description={
        'Cached step results are snapshots. Past these limits the least recently used ones go first (after ' +
        'each build and on hangar gc); steps a machine runs on, or that others are built on, stay.'
      }
    >
      <form
        className="flex flex-wrap items-end gap-3 text-sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <label className="flex flex-col gap-1">
          <span className="font-medium">Budget (MiB, 0 = none)</span>
          <input
            type="number"
            min={0}
            value={draft.budget ?? settings?.stepCacheBudgetMib ?? ''}
            disabled={!isAdmin || !settings}
            onChange={(e) => setDraft((d) => ({ ...d, budget: e.target.value }))}
            className={input}
          />
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium">Max age (days unused, 0 = forever)</span>
          <input
            type="number"
            min={0}
            value={draft.age ?? settings?.stepCacheMaxAgeDays ?? ''}
            disabled={!isAdmin || !settings}
            onChange={(e) => setDraft((d) => ({ ...d, age: e.target.value }))}
            className={input}
          />
        </label>
        <button
          type="submit"
          disabled={!isAdmin || (draft.budget === undefined && draft.age === undefined) || save.isPending}
          className="rounded-lg bg-zinc-900 px-3 py-1.5 font-medium text-white disabled:opacity-40 dark:bg-zinc-100 dark:text-zinc-900"
        >
          Save
        </button>
        {!isAdmin && <span className="text-zinc-500 dark:text-zinc-400">Only admins can change this.</span>}
      </form>
    </Section>
  );
}
