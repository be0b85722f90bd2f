import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Store } from '../client';

export type SnapshotCopyRow = Store['t']['snapshotCopies']['$inferSelect'];

/** The copy of a snapshot this node holds, if any. */
export async function getCopy(s: Store, snapshotId: string, nodeId: string): Promise<SnapshotCopyRow | undefined> {
  const [row] = await s.db
    .select()
    .from(s.t.snapshotCopies)
    .where(and(eq(s.t.snapshotCopies.snapshotId, snapshotId), eq(s.t.snapshotCopies.nodeId, nodeId)))
    .limit(1);
  return row;
}

/** Every copy of a snapshot (which nodes hold one). */
export async function copiesOf(s: Store, snapshotId: string): Promise<SnapshotCopyRow[]> {
  return s.db.select().from(s.t.snapshotCopies).where(eq(s.t.snapshotCopies.snapshotId, snapshotId));
}

/** Every copy of every snapshot (the snapshot list shows where each has copies). */
export async function allCopies(s: Store): Promise<SnapshotCopyRow[]> {
  return s.db.select().from(s.t.snapshotCopies);
}

/** A node's copies, least recently used first. */
export async function nodeCopies(s: Store, nodeId: string): Promise<SnapshotCopyRow[]> {
  return s.db.select().from(s.t.snapshotCopies).where(eq(s.t.snapshotCopies.nodeId, nodeId)).orderBy(asc(s.t.snapshotCopies.lastUsedAt));
}

/** The copies (of any snapshot in `ids`) and the nodes that hold them. */
export async function copiesOfAny(s: Store, ids: string[]): Promise<SnapshotCopyRow[]> {
  if (ids.length === 0) return [];
  return s.db.select().from(s.t.snapshotCopies).where(inArray(s.t.snapshotCopies.snapshotId, ids));
}

export async function insertCopy(s: Store, v: SnapshotCopyRow): Promise<void> {
  await s.db.insert(s.t.snapshotCopies).values(v);
}

export async function touchCopy(s: Store, snapshotId: string, nodeId: string, at: number): Promise<void> {
  await s.db
    .update(s.t.snapshotCopies)
    .set({ lastUsedAt: at })
    .where(and(eq(s.t.snapshotCopies.snapshotId, snapshotId), eq(s.t.snapshotCopies.nodeId, nodeId)));
}

export async function deleteCopy(s: Store, snapshotId: string, nodeId: string): Promise<void> {
  await s.db.delete(s.t.snapshotCopies).where(and(eq(s.t.snapshotCopies.snapshotId, snapshotId), eq(s.t.snapshotCopies.nodeId, nodeId)));
}
