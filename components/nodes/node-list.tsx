'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { NodeCard } from '@/components/nodes/node-card';
import { JoinTokens } from '@/components/nodes/join-tokens';

// Wrapped, not scrolled: a scrolling region would need to take the keyboard focus.
const cmd = 'mt-1 rounded-md bg-white/80 px-2 py-1.5 font-mono text-xs break-words whitespace-pre-wrap dark:bg-zinc-900/60';

/** On one node: what this page shows, and the commands that make a cluster of it. */
function SoloNote() {
  return (
    <section
      aria-label="One node"
      data-testid="solo-note"
      className="rounded-xl border border-sky-200 bg-sky-50/60 p-4 text-sm text-zinc-700 dark:border-sky-900 dark:bg-sky-950/30 dark:text-zinc-300"
    >
      <h2 className="font-semibold text-zinc-900 dark:text-zinc-100">One node</h2>
      <p className="mt-1">
        This Hangar keeps its state in SQLite, so it runs on this host alone: a cluster of one. To add nodes, run every node on one PostgreSQL database.
      </p>
      <p className="mt-3 text-xs text-zinc-600 dark:text-zinc-400">Here, to found the cluster:</p>
      <pre className={cmd}>DATABASE_URL=postgres://hangar@db/hangar hangar up</pre>
      <p className="mt-2 text-xs text-zinc-600 dark:text-zinc-400">On each new node, with a token from Join token:</p>
      <pre className={cmd}>DATABASE_URL=postgres://hangar@db/hangar hangar up --cluster-join URL --token T</pre>
      <p className="mt-3 text-xs text-zinc-600 dark:text-zinc-400">The SQLite database is not carried over: PostgreSQL starts empty.</p>
    </section>
  );
}

export function NodeList() {
  const qc = useQueryClient();
  const confirm = useConfirm();
  const health = useQuery(queries(api).health());
  const nodes = useQuery(queries(api).nodes());
  const [problem, setProblem] = useState<string | null>(null);
  const cluster = health.data?.cluster.enabled ?? false;
  const done = {
    onSuccess: () => {
      setProblem(null);
      void qc.invalidateQueries({ queryKey: keys.nodes() });
    },
    // The server's reason (a 409: online, owns machines, the node you are talking to) as it said it.
    onError: (err: Error) => setProblem(err.message),
  };
  const drain = useMutation({
    mutationFn: ({ name, draining }: { name: string; draining: boolean }) => api.nodes[draining ? 'drain' : 'undrain'](name),
    ...done,
  });
  const remove = useMutation({ mutationFn: (name: string) => api.nodes.remove(name), ...done });

  async function onDrain(n: ClusterNode, draining: boolean) {
    if (
      draining &&
      !(await confirm({
        title: `Drain ${n.name}?`,
        body: 'It takes no new machines; the ones it holds keep running. Undrain takes it back.',
        confirmLabel: 'Drain',
      }))
    )
      return;
    drain.mutate({ name: n.name, draining });
  }
  async function onRemove(n: ClusterNode) {
    const ok = await confirm({
      title: `Remove ${n.name} from the cluster?`,
      body: 'Only a stopped node that holds no machines can be removed. To bring it back, join it again with a new token.',
      confirmLabel: 'Remove',
      danger: true,
    });
    if (ok) remove.mutate(n.name);
  }

  if (nodes.isPending || health.isPending) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading nodes…</p>;
  if (nodes.error) return <p className="text-sm text-red-600">Could not load the nodes: {nodes.error.message}</p>;
  const busy = drain.isPending || remove.isPending;
  const cards = nodes.data.map((n) => (
    <NodeCard key={n.id} node={n} actions={cluster ? { onDrain, onRemove, busy } : { onDrain: null, onRemove: null, busy }} />
  ));
  if (!cluster)
    // A one-node datacenter: this host beside how to make it more.
    return (
      <div className="grid items-start gap-6 lg:grid-cols-2">
        <div className="space-y-4">{cards}</div>
        <div className="space-y-6">
          <SoloNote />
          <JoinTokens cluster={false} />
        </div>
      </div>
    );
  return (
    <div className="space-y-6">
      {problem && (
        <p
          role="alert"
          data-testid="node-problem"
          className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300"
        >
          {problem}
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-2 2xl:grid-cols-3">{cards}</div>
      <JoinTokens cluster />
    </div>
  );
}
