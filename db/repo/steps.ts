import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { StepNode } from '@/lib/contracts/steps';
import type { Store } from '../client';

type StepRow = Store['t']['stepNodes']['$inferSelect'];

const toNode = (r: StepRow): StepNode => ({
  key: r.key,
  parentKey: r.parentKey,
  step: r.step,
  version: r.version,
  args: JSON.parse(r.argsJson),
  image: r.image,
  driver: r.driver,
  snapshotId: r.snapshotId,
  durationMs: r.durationMs,
  hits: r.hits,
  lastUsedAt: r.lastUsedAt,
  createdAt: r.createdAt,
});

export async function getStepNode(s: Store, key: string): Promise<StepNode | null> {
  const [row] = await s.db.select().from(s.t.stepNodes).where(eq(s.t.stepNodes.key, key));
  return row ? toNode(row) : null;
}

export async function listStepNodes(s: Store): Promise<StepNode[]> {
  return (await s.db.select().from(s.t.stepNodes).orderBy(asc(s.t.stepNodes.createdAt))).map(toNode);
}

export async function insertStepNode(s: Store, n: Omit<StepNode, 'hits'>): Promise<void> {
  await s.db.insert(s.t.stepNodes).values({
    key: n.key,
    parentKey: n.parentKey,
    step: n.step,
    version: n.version,
    argsJson: JSON.stringify(n.args),
    image: n.image,
    driver: n.driver,
    snapshotId: n.snapshotId,
    durationMs: n.durationMs,
    hits: 0,
    lastUsedAt: n.lastUsedAt,
    createdAt: n.createdAt,
  });
}

/** A cache hit: counted, and the node is fresh again for the LRU clean-up. */
export async function touchStepNode(s: Store, key: string, now: number): Promise<void> {
  await s.db
    .update(s.t.stepNodes)
    .set({ hits: sql`${s.t.stepNodes.hits} + 1`, lastUsedAt: now })
    .where(eq(s.t.stepNodes.key, key));
}

export async function deleteStepNodes(s: Store, keys: string[]): Promise<void> {
  if (keys.length) await s.db.delete(s.t.stepNodes).where(inArray(s.t.stepNodes.key, keys));
}
