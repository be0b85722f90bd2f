'use client';

import Link from 'next/link';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { StateBadge } from '@/components/machines/state-badge';
import { heartbeatText, nodeStateLabel, removeBlocker, usageBars, type Tone, type UsageBar } from '@/components/nodes/node-view';

const barTone: Record<Tone, string> = { ok: 'bg-sky-500', warn: 'bg-amber-500', full: 'bg-red-500' };
const stateBadge = { online: 'running', draining: 'paused', offline: 'failed' } as const;

function Bar({ bar, node }: { bar: UsageBar; node: string }) {
  return (
    <div data-usage={bar.key}>
      <div className="flex items-baseline justify-between gap-2 text-xs">
        <span className="font-medium text-zinc-700 dark:text-zinc-300">{bar.label}</span>
        <span className="truncate text-zinc-600 tabular-nums dark:text-zinc-400">{bar.text}</span>
      </div>
      <div
        role="meter"
        aria-label={`${bar.label} of ${node}: ${bar.text}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={bar.fraction === null ? undefined : Math.round(bar.fraction * 100)}
        className="mt-1 flex h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        {bar.fraction !== null && <div className={barTone[bar.tone]} style={{ width: `${bar.fraction * 100}%` }} />}
      </div>
    </div>
  );
}

export interface NodeActions {
  /** Null on one node: there is nothing to drain or remove. */
  onDrain: ((n: ClusterNode, draining: boolean) => void) | null;
  onRemove: ((n: ClusterNode) => void) | null;
  busy: boolean;
}

const button =
  'rounded-md border border-zinc-300 px-2.5 py-1 text-xs font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800';

/** One node: its state and heartbeat, where it answers, what its host can run, its use, and the admin's actions. */
export function NodeCard({ node, actions }: { node: ClusterNode; actions: NodeActions }) {
  const state = nodeStateLabel(node);
  const blocker = removeBlocker(node);
  return (
    <article
      aria-label={`Node ${node.name}`}
      data-testid="node-card"
      data-node={node.name}
      data-state={state}
      className="flex flex-col rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40"
    >
      <header className="flex flex-wrap items-center gap-2">
        <h2 className="font-mono text-base font-semibold">{node.name}</h2>
        {node.self && (
          <span className="rounded-full bg-sky-50 px-2 py-0.5 text-xs text-sky-700 dark:bg-sky-950/60 dark:text-sky-300" title="The node that answered">
            this node
          </span>
        )}
        <span className="ml-auto">
          <StateBadge state={stateBadge[state]} label={state} />
        </span>
      </header>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-xs text-zinc-600 dark:text-zinc-400">
        <dt>Heartbeat</dt>
        <dd data-testid="node-heartbeat">{heartbeatText(node.heartbeatAgeMs).replace(/^heartbeat /, '')}</dd>
        <dt>Version</dt>
        <dd className="font-mono">{node.version}</dd>
        <dt>Internal URL</dt>
        <dd className="truncate font-mono" title={node.internalUrl}>
          {node.internalUrl || '–'}
        </dd>
        <dt>Size</dt>
        <dd>
          {node.cpus} CPUs · {Math.round(node.memoryMib / 1024)} GiB
        </dd>
        <dt>Machines</dt>
        <dd>
          {node.machines === null || node.machines === undefined ? (
            '–'
          ) : (
            <Link href="/machines" className="text-sky-700 hover:underline dark:text-sky-400" data-testid="node-machines">
              {node.machines} machine{node.machines === 1 ? '' : 's'}
            </Link>
          )}
        </dd>
      </dl>
      <ul aria-label="Capabilities" className="mt-3 flex flex-wrap gap-1">
        {node.capabilities.length === 0 && <li className="text-xs text-zinc-500 dark:text-zinc-400">No capabilities reported yet.</li>}
        {node.capabilities.map((c) => (
          <li
            key={c}
            data-capability={c}
            className={`rounded-full border border-zinc-200 bg-zinc-50 px-2 py-0.5 font-mono text-[11px] text-zinc-700
              dark:border-zinc-700 dark:bg-zinc-800 dark:text-zinc-300`}
          >
            {c}
          </li>
        ))}
      </ul>
      <div className="mt-4 space-y-2.5">
        {usageBars(node.usage, node.cpus).map((b) => (
          <Bar key={b.key} bar={b} node={node.name} />
        ))}
      </div>
      {actions.onDrain && actions.onRemove && (
        <div className="mt-4 flex flex-wrap gap-2 border-t border-zinc-100 pt-3 dark:border-zinc-800">
          <button type="button" className={button} disabled={actions.busy} onClick={() => actions.onDrain!(node, node.state !== 'draining')}>
            {node.state === 'draining' ? 'Undrain' : 'Drain'}
          </button>
          <button
            type="button"
            title={blocker ?? undefined}
            className={`${button} text-red-700 dark:text-red-400`}
            disabled={actions.busy}
            onClick={() => actions.onRemove!(node)}
          >
            Remove
          </button>
        </div>
      )}
    </article>
  );
}
