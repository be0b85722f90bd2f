'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { keys } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/shell/toasts';
import { OneTimeLink } from '@/components/ui/one-time-link';
import { Options } from '@/components/ui/options';

const field = 'w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const LIFETIMES = [
  ['30 minutes', 1800],
  ['2 hours', 7200],
  ['8 hours', 28800],
  ['1 day', 86400],
] as const;
const EXPIRY = [
  ['1 hour', 3600],
  ['1 day', 86400],
  ['7 days', 7 * 86400],
] as const;

function Choice({ name, label, options, value }: { name: string; label: string; options: readonly (readonly [string, number])[]; value: number }) {
  return (
    <label className="text-sm">
      <span className="mb-1 block text-xs text-zinc-600 dark:text-zinc-400">{label}</span>
      <select name={name} defaultValue={value} className={field}>
        <Options options={options} />
      </select>
    </label>
  );
}

/**
 * "Fork link": from a snapshot, or from "now" of a running machine (a live checkpoint first).
 * Whoever opens the link gets a private running fork of it; the link is shown once.
 */
export function ForkLinkButton({ source, what, className }: { source: { snapshot: string } | { machine: string }; what: string; className?: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [link, setLink] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (b: { maxForks: number; lifetimeSeconds: number; expiresInSeconds: number; label?: string }) => api.forkLinks.create({ ...source, ...b }),
    onSuccess: (r) => {
      setLink(`${window.location.origin}${r.path}`);
      void qc.invalidateQueries({ queryKey: keys.forkLinks() });
    },
    onError: (err) => toast('error', err.message),
  });
  const close = () => {
    setOpen(false);
    setLink(null);
  };
  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const label = String(f.get('label') ?? '').trim();
    create.mutate({
      maxForks: Math.max(1, Math.min(100, Number(f.get('max')) || 5)),
      lifetimeSeconds: Number(f.get('lifetime')),
      expiresInSeconds: Number(f.get('expires')),
      ...(label ? { label } : {}),
    });
  }
  return (
    <>
      <button
        type="button"
        onClick={() => setOpen(true)}
        title="A link that gives whoever opens it a private running fork, with its console, for a while"
        className={className ?? 'rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800'}
      >
        Fork link
      </button>
      {open && (
        <Modal
          onClose={close}
          aria-label="Fork link"
          className={`m-auto w-[calc(100%-2rem)] max-w-md rounded-xl border border-zinc-200 bg-white p-5 text-zinc-900 shadow-xl
            dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
        >
          <h2 className="text-base font-semibold">Fork link of {what}</h2>
          <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
            Whoever opens it gets their own running fork, carrying on from this point, with its console in the browser: no account needed. Each fork is
            destroyed when its lifetime ends.
          </p>
          {link ? (
            <OneTimeLink link={link} testId="fork-link-url" onDone={close} layout="stacked" className="mt-4" />
          ) : (
            <form onSubmit={onSubmit} aria-label="New fork link" className="mt-4 grid grid-cols-2 gap-3">
              <label className="text-sm">
                <span className="mb-1 block text-xs text-zinc-600 dark:text-zinc-400">At most this many forks</span>
                <input name="max" type="number" min={1} max={100} defaultValue={5} className={field} />
              </label>
              <Choice name="lifetime" label="Each fork lives" options={LIFETIMES} value={7200} />
              <Choice name="expires" label="The link opens forks for" options={EXPIRY} value={86400} />
              <label className="text-sm">
                <span className="mb-1 block text-xs text-zinc-600 dark:text-zinc-400">Label (optional)</span>
                <input name="label" maxLength={64} placeholder="workshop" className={field} />
              </label>
              <div className="col-span-2 flex justify-end gap-2">
                <button type="button" onClick={close} className="rounded-md px-3 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
                  Cancel
                </button>
                <button
                  type="submit"
                  disabled={create.isPending}
                  className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
                >
                  {create.isPending ? 'Making the link…' : 'Create link'}
                </button>
              </div>
            </form>
          )}
        </Modal>
      )}
    </>
  );
}
