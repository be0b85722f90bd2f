import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Snapshot } from '@/lib/contracts/snapshots';
import type { Store } from '../client';
import { newRowNode, ownRows } from './own';

export type SnapshotRow = Store['t']['snapshots']['$inferSelect'];
export type SnapshotInsert = Store['t']['snapshots']['$inferInsert'];

/**
 * What restore and fork need to start a machine like the one the snapshot was taken from; the
 * rest of the spec is what its driver recorded (read by that driver only).
 */
export interface SnapshotSpec {
  cpus: number;
  memoryMib: number;
  diskGib: number;
}

export const specOf = (r: SnapshotRow): SnapshotSpec => JSON.parse(r.specJson);

export async function insertSnapshot(s: Store, v: SnapshotInsert): Promise<SnapshotRow> {
  const [row] = await s.db
    .insert(s.t.snapshots)
    .values({ nodeId: newRowNode(s), ...v })
    .returning();
  return row;
}

export async function updateSnapshot(s: Store, id: string, patch: Partial<SnapshotInsert>): Promise<SnapshotRow | undefined> {
  const [row] = await s.db.update(s.t.snapshots).set(patch).where(eq(s.t.snapshots.id, id)).returning();
  return row;
}

export async function getSnapshotRow(s: Store, id: string): Promise<SnapshotRow | undefined> {
  const [row] = await s.db.select().from(s.t.snapshots).where(eq(s.t.snapshots.id, id)).limit(1);
  return row;
}

/** Snapshots with exactly this label, oldest first. */
export async function snapshotRowsLabelled(s: Store, label: string): Promise<SnapshotRow[]> {
  return s.db.select().from(s.t.snapshots).where(eq(s.t.snapshots.label, label)).orderBy(asc(s.t.snapshots.createdAt));
}

export async function listSnapshotRows(s: Store): Promise<SnapshotRow[]> {
  return s.db.select().from(s.t.snapshots).orderBy(asc(s.t.snapshots.createdAt));
}

/** The snapshots this node holds in a state (start-up recovery acts on its own files only). */
export async function listSnapshotRowsInState(s: Store, state: SnapshotRow['state']): Promise<SnapshotRow[]> {
  return s.db
    .select()
    .from(s.t.snapshots)
    .where(and(eq(s.t.snapshots.state, state), ownRows(s, s.t.snapshots.nodeId)));
}

export async function childrenOf(s: Store, id: string): Promise<SnapshotRow[]> {
  return s.db.select().from(s.t.snapshots).where(eq(s.t.snapshots.parentId, id));
}

export async function deleteSnapshots(s: Store, ids: string[]): Promise<void> {
  if (ids.length) await s.db.delete(s.t.snapshots).where(inArray(s.t.snapshots.id, ids));
}

export function toSnapshot(r: SnapshotRow, machineName: string | null, on: { id: string; name: string }[]): Snapshot {
  const spec = JSON.parse(r.specJson) as Partial<SnapshotSpec>;
  return {
    id: r.id,
    parentId: r.parentId,
    machineId: r.machineId,
    machineName,
    kind: r.kind,
    label: r.label,
    state: r.state,
    sizeBytes: r.sizeBytes,
    pauseMs: r.pauseMs,
    driver: r.driver,
    image: r.image,
    memoryMib: spec.memoryMib ?? null,
    cpus: spec.cpus ?? null,
    machines: on,
    createdAt: r.createdAt,
    undoPoint: r.undoPoint,
    hot: r.hot,
    pool: null,
    copies: [],
  };
}
