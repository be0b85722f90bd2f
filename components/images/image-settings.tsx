'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { hasRole } from '@/lib/roles';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';
import { useToast } from '@/components/shell/toasts';

/** The Debian mirror image builds use: empty means the one in the host's apt sources. */
export function ImageSettings() {
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(queries(api).me()).data;
  const settings = useQuery(queries(api).settings());
  const [draft, setDraft] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (debianMirror: string) => api.settings.update({ debianMirror }),
    onSuccess: (s) => {
      qc.setQueryData(keys.settings(), s);
      setDraft(null);
      toast('info', s.debianMirror ? `Debian images will be built from ${s.debianMirror}.` : "Debian images will be built from the host's apt mirror.");
    },
    onError: (err) => toast('error', err.message),
  });
  const isAdmin = !!me && hasRole(me.role, 'admin');
  const value = draft ?? settings.data?.debianMirror ?? '';
  return (
    <Section
      title="Image builds"
      description="debian-12 is bootstrapped from a Debian archive: by default the one in this host's apt sources (/etc/apt/sources.list*)."
    >
      <form
        className="flex flex-wrap items-end gap-3 text-sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(value.trim());
        }}
      >
        <label className="flex min-w-64 flex-1 flex-col gap-1">
          <span className="font-medium">Debian mirror</span>
          <input
            type="url"
            value={value}
            placeholder="from the host's apt sources"
            disabled={!isAdmin || !settings.data}
            onChange={(e) => setDraft(e.target.value)}
            className="rounded-lg border border-zinc-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
        </label>
        <button
          type="submit"
          disabled={!isAdmin || draft === null || save.isPending}
          className="rounded-lg bg-zinc-900 px-3 py-1.5 font-medium text-white disabled:opacity-40 dark:bg-zinc-100 dark:text-zinc-900"
        >
          Save
        </button>
        {!isAdmin && <span className="text-zinc-500 dark:text-zinc-400">Only admins can change this.</span>}
      </form>
    </Section>
  );
}
