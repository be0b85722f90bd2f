import type { StepNode } from '@/lib/contracts/steps';
import type { Store } from '@/db/client';
import { deleteStepNodes, listStepNodes } from '@/db/repo/steps';
import { NotFoundError } from '../errors';
import type { EventBus } from '../events';
import type { SnapshotService } from '../snapshots';

/** What the step cache's upkeep needs of the step service. */
export interface CacheDeps {
  store: Store;
  snapshots: SnapshotService;
  bus: EventBus;
  /** Nodes a build is forking now: left alone. */
  pinned: ReadonlyMap<string, number>;
  now: () => number;
}

/**
 * The cache within its limits: least recently used first, nodes unused for longer than
 * `maxAgeDays` go, then more while the cache is over `budgetMib`. Only leaves of the tree
 * (nothing cached on them) whose snapshot no machine runs on, and that no build is forking now, are taken; a removal that the
 * snapshot tree refuses (a user's checkpoint was made on it) keeps the node.
 */
export async function cleanupCache(d: CacheDeps, limits: { budgetMib: number; maxAgeDays: number }): Promise<{ removed: number; freedBytes: number }> {
  const snaps = new Map((await d.snapshots.list()).map((s) => [s.id, s]));
  let nodes = await listStepNodes(d.store);
  const size = (n: StepNode) => (n.snapshotId ? (snaps.get(n.snapshotId)?.sizeBytes ?? 0) : 0);
  let total = nodes.reduce((a, n) => a + size(n), 0);
  const budget = limits.budgetMib * 2 ** 20;
  const oldest = limits.maxAgeDays > 0 ? d.now() - limits.maxAgeDays * 86_400_000 : -Infinity;
  const kept = new Set<string>();
  let removed = 0;
  let freedBytes = 0;
  for (;;) {
    const parents = new Set(nodes.map((n) => n.parentKey));
    const leaf = nodes
      .filter((n) => !parents.has(n.key) && !kept.has(n.key) && !d.pinned.has(n.key) && !(n.snapshotId && snaps.get(n.snapshotId)?.machines.length))
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0];
    if (!leaf || (leaf.lastUsedAt >= oldest && (budget === 0 || total <= budget))) break;
    try {
      if (leaf.snapshotId && snaps.has(leaf.snapshotId)) await d.snapshots.remove(leaf.snapshotId, false);
    } catch {
      kept.add(leaf.key);
      continue;
    }
    await deleteStepNodes(d.store, [leaf.key]);
    total -= size(leaf);
    freedBytes += size(leaf);
    removed++;
    nodes = nodes.filter((n) => n.key !== leaf.key);
  }
  if (removed) d.bus.publish('steps:changed', { key: '' });
  return { removed, freedBytes };
}

/** A node and everything built on it leave the cache (their snapshots go too, unless a machine runs on them). */
export async function invalidateNode(d: CacheDeps, key: string): Promise<{ removed: number }> {
  const nodes = await listStepNodes(d.store);
  if (!nodes.some((n) => n.key === key)) throw new NotFoundError('Step node');
  const doomed = new Set([key]);
  for (let grew = true; grew;) {
    grew = false;
    for (const n of nodes) {
      if (n.parentKey && doomed.has(n.parentKey) && !doomed.has(n.key)) {
        doomed.add(n.key);
        grew = true;
      }
    }
  }
  const snaps = nodes.filter((n) => doomed.has(n.key) && n.snapshotId).map((n) => n.snapshotId!);
  await deleteStepNodes(d.store, [...doomed]);
  d.bus.publish('steps:changed', { key });
  // Deepest first: a snapshot with children is refused while they exist.
  for (const id of snaps.reverse()) await d.snapshots.remove(id, false).catch(() => undefined);
  return { removed: doomed.size };
}
