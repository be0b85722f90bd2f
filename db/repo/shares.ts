import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Store } from '../client';

export type ShareRow = Store['t']['shareLinks']['$inferSelect'];

export async function insertShare(s: Store, row: ShareRow): Promise<void> {
  await s.db.insert(s.t.shareLinks).values(row);
}

export async function listShares(s: Store, machineId: string): Promise<ShareRow[]> {
  return s.db.select().from(s.t.shareLinks).where(eq(s.t.shareLinks.machineId, machineId)).orderBy(desc(s.t.shareLinks.createdAt));
}

export async function getShare(s: Store, id: string): Promise<ShareRow | undefined> {
  const [row] = await s.db.select().from(s.t.shareLinks).where(eq(s.t.shareLinks.id, id)).limit(1);
  return row;
}

export async function findShareByHash(s: Store, tokenHash: string): Promise<ShareRow | undefined> {
  const [row] = await s.db.select().from(s.t.shareLinks).where(eq(s.t.shareLinks.tokenHash, tokenHash)).limit(1);
  return row;
}

export async function revokeShare(s: Store, id: string, now: number): Promise<boolean> {
  const rows = await s.db
    .update(s.t.shareLinks)
    .set({ revokedAt: now })
    .where(and(eq(s.t.shareLinks.id, id), isNull(s.t.shareLinks.revokedAt)))
    .returning({ id: s.t.shareLinks.id });
  return rows.length > 0;
}

export async function touchShare(s: Store, id: string, now: number): Promise<void> {
  await s.db.update(s.t.shareLinks).set({ lastUsedAt: now }).where(eq(s.t.shareLinks.id, id));
}

/** A machine's links go with it. */
export async function deleteMachineShares(s: Store, machineId: string): Promise<void> {
  await s.db.delete(s.t.shareLinks).where(eq(s.t.shareLinks.machineId, machineId));
}
