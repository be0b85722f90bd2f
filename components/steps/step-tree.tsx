'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { StepNode } from '@/lib/contracts/steps';
import { formatAge, formatBytes } from '@/lib/format';
import { keys, queries } from '@/lib/queries';
import { hasRole } from '@/lib/roles';
import { ChainError, parseChain, tokenize } from '@/lib/steps/chain';
import { api } from '@/components/ui/api';
import { EmptyState } from '@/components/ui/empty-state';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';

type TreeNode = StepNode & { sizeBytes: number };

const button =
  'rounded-md border border-zinc-300 px-2.5 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800';

/** The step cache as a tree (like a git graph), with a chain builder above it. */
export function StepTree() {
  const q = useQuery(queries(api).steps());
  const me = useQuery(queries(api).me()).data;
  const canOperate = !!me && hasRole(me.role, 'operator');
  if (q.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading the step cache…</p>;
  if (q.error) return <p className="text-sm text-red-600">Could not load the step cache: {q.error.message}</p>;
  const kids = new Map<string | null, TreeNode[]>();
  for (const n of q.data) kids.set(n.parentKey, [...(kids.get(n.parentKey) ?? []), n]);
  const rows: { n: TreeNode; depth: number }[] = [];
  const walk = (p: string | null, depth: number) => (kids.get(p) ?? []).forEach((n) => (rows.push({ n, depth }), walk(n.key, depth + 1)));
  walk(null, 0);
  return (
    <div className="space-y-4">
      {canOperate && <ChainBuilder />}
      {rows.length === 0 ? (
        <EmptyState icon="steps" title="No cached steps yet">
          <p>
            Run a chain above, or from a terminal: <code>hangar build busybox + file /etc/motd hello + exec -- cat /etc/motd</code>. Each step&apos;s result
            lands here as a node you can start a machine from.
          </p>
        </EmptyState>
      ) : (
        <ul
          className={`divide-y divide-zinc-200 overflow-hidden rounded-xl border border-zinc-200 bg-white dark:divide-zinc-800
            dark:border-zinc-800 dark:bg-zinc-900`}
          data-testid="step-tree"
        >
          {rows.map(({ n, depth }) => (
            <StepRow key={n.key} n={n} depth={depth} canOperate={canOperate} />
          ))}
        </ul>
      )}
    </div>
  );
}

function argsText(n: StepNode): string {
  const a = n.args;
  if (n.step === 'exec' && Array.isArray(a.argv)) return (a.argv as string[]).join(' ');
  if (n.step === 'apt' && Array.isArray(a.packages)) return (a.packages as string[]).join(' ');
  if (n.step === 'file' && a.archive !== undefined) return `${String(a.path)} (a directory)`;
  if (n.step === 'file') return `${String(a.path)} (${/^sha256:\S+ \((\d+) chars\)$/.exec(String(a.content))?.[1] ?? String(a.content ?? '').length} bytes)`;
  if (n.step === 'ssh') return `${String(a.user)}${typeof a.key === 'string' ? `, key …${a.key.split(' ')[2] ?? a.key.slice(-12)}` : ''}`;
  if (n.step === 'os.debian') return [a.image, a.driver].filter(Boolean).map(String).join(', ');
  const s = JSON.stringify(a);
  return s === '{}' ? '' : s;
}

function StepRow({ n, depth, canOperate }: { n: TreeNode; depth: number; canOperate: boolean }) {
  const confirm = useConfirm();
  const toast = useToast();
  const qc = useQueryClient();
  const start = useMutation({
    mutationFn: () => api.snapshots.fork(n.snapshotId!, { count: 1, namePrefix: n.step.replace(/[^a-z0-9-]/g, '-').slice(0, 40) }),
    onSuccess: (job) => toast('info', `${job.title}: started`),
    onError: (err) => toast('error', err.message),
  });
  const drop = useMutation({
    mutationFn: () => api.steps.invalidate(n.key),
    onSuccess: (r) => {
      toast('info', `Invalidated ${r.removed} cached step${r.removed === 1 ? '' : 's'}`);
      void qc.invalidateQueries({ queryKey: keys.steps() });
    },
    onError: (err) => toast('error', err.message),
  });
  return (
    <li
      className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-2.5 text-sm"
      data-testid="step-node"
      data-step={n.step}
      style={{ paddingLeft: `${1 + depth * 1.5}rem` }}
    >
      <span className="font-mono text-xs text-zinc-500 dark:text-zinc-400" title={n.key}>
        {depth > 0 ? '└ ' : ''}
        {n.key.slice(0, 8)}
      </span>
      <span className="font-medium">{n.step}</span>
      <span className="min-w-0 flex-1 truncate font-mono text-xs text-zinc-600 dark:text-zinc-400" title={JSON.stringify(n.args)}>
        {argsText(n)}
      </span>
      <span className="text-xs text-zinc-500 dark:text-zinc-400">
        {formatBytes(n.sizeBytes)} · {n.hits} hit{n.hits === 1 ? '' : 's'} · used {formatAge(n.lastUsedAt)} · saves {(n.durationMs / 1000).toFixed(1)} s
      </span>
      {canOperate && (
        <span className="flex gap-2">
          <button type="button" className={button} disabled={!n.snapshotId || start.isPending} onClick={() => start.mutate()}>
            Start machine
          </button>
          <button
            type="button"
            className={`${button} text-red-600 dark:text-red-400`}
            disabled={drop.isPending}
            onClick={async () =>
              (await confirm({
                title: `Invalidate ${n.step} and every step built on it?`,
                body: 'The next build runs them again.',
                confirmLabel: 'Invalidate',
                danger: true,
              })) && drop.mutate()
            }
          >
            Invalidate
          </button>
        </span>
      )}
    </li>
  );
}

/** A picked step added to the chain: a base replaces the chain's base, another step goes at the end. */
function pick(chain: string, name: string, base: boolean): string {
  if (base) {
    const rest = chain.indexOf(' + ');
    return `${name === 'os.busybox' ? 'busybox' : name === 'os.debian' ? 'debian-12' : name}${rest >= 0 ? chain.slice(rest) : ''}`;
  }
  return `${chain.trimEnd()} + ${name} `;
}

/** A chain written as on the command line, checked as you type against each step's schema. */
function ChainBuilder() {
  const toast = useToast();
  const catalog = useQuery(queries(api).stepCatalog()).data ?? [];
  const [chain, setChain] = useState('busybox + file /etc/motd "hello" + exec -- cat /etc/motd');
  let problem: string | null = null;
  try {
    parseChain(tokenize(chain));
  } catch (err) {
    problem = err instanceof ChainError ? err.message : String(err);
    // A user step (from the server's steps directory) is checked by the server when the build starts.
    const unknown = /^Unknown step "([^"]+)"/.exec(problem)?.[1];
    if (unknown && catalog.some((s) => s.name === unknown)) problem = null;
  }
  const build = useMutation({
    mutationFn: () => api.steps.build({ chain }),
    onSuccess: (job) => toast('info', `${job.title}: started`),
    onError: (err) => toast('error', err.message),
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!problem) build.mutate();
  };
  return (
    <form
      onSubmit={onSubmit}
      aria-label="Chain builder"
      className="space-y-2 rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <label className="block text-sm font-medium">
        Chain
        <input
          name="chain"
          value={chain}
          onChange={(e) => setChain(e.target.value)}
          spellCheck={false}
          className="mt-1 block w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
        />
      </label>
      <div className="flex flex-wrap items-center gap-3">
        <button
          type="submit"
          disabled={!!problem || build.isPending}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          {build.isPending ? 'Starting…' : 'Build'}
        </button>
        {problem ? (
          <span role="alert" className="text-xs text-red-600 dark:text-red-400">
            {problem}
          </span>
        ) : (
          <span className="text-xs text-zinc-500 dark:text-zinc-400">cached steps are restored, the rest run and are cached</span>
        )}
      </div>
      <div className="flex flex-wrap items-baseline gap-1.5 text-xs text-zinc-500 dark:text-zinc-400">
        <span>Add a step:</span>
        {catalog.map((s) => (
          <button
            key={s.name}
            type="button"
            title={`${s.usage} — ${s.description}`}
            onClick={() => setChain((c) => pick(c, s.name, s.base))}
            className={`rounded border border-zinc-200 px-1.5 py-0.5 font-mono hover:border-sky-400 hover:text-sky-700
              dark:border-zinc-700 dark:hover:text-sky-300`}
          >
            {s.name}
          </button>
        ))}
      </div>
    </form>
  );
}
