import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Store } from '../client';
import { dbNow } from './nodes';

export type JoinTokenRow = Store['t']['joinTokens']['$inferSelect'];

/** Expires `ttlMs` after now by the database's clock (the same clock that consumes it). */
export async function insertJoinToken(s: Store, t: { id: string; tokenHash: string; createdBy: string | null; ttlMs: number }): Promise<JoinTokenRow> {
  const now = dbNow(s);
  const [row] = await s.db
    .insert(s.t.joinTokens)
    .values({ id: t.id, tokenHash: t.tokenHash, createdBy: t.createdBy, createdAt: now, expiresAt: sql`${now} + ${t.ttlMs}` })
    .returning();
  return row;
}

/**
 * Use a token: one conditional UPDATE (unused, not expired), so of two joins racing with the
 * same token exactly one gets the row back. Undefined: unknown, used or expired.
 */
export async function consumeJoinToken(s: Store, tokenHash: string, nodeId: string): Promise<JoinTokenRow | undefined> {
  const j = s.t.joinTokens;
  const [row] = await s.db
    .update(j)
    .set({ usedAt: dbNow(s), usedByNode: nodeId })
    .where(and(eq(j.tokenHash, tokenHash), isNull(j.usedAt), gt(j.expiresAt, dbNow(s))))
    .returning();
  return row;
}

/** Gives a consumed token back (the join failed after it was taken: the joiner may try again). */
export async function releaseJoinToken(s: Store, id: string): Promise<void> {
  await s.db.update(s.t.joinTokens).set({ usedAt: null, usedByNode: null }).where(eq(s.t.joinTokens.id, id));
}

export async function deleteJoinToken(s: Store, id: string): Promise<boolean> {
  const rows = await s.db.delete(s.t.joinTokens).where(eq(s.t.joinTokens.id, id)).returning({ id: s.t.joinTokens.id });
  return rows.length > 0;
}

/** Tokens that may still be used (unused, not expired by the database's clock), newest first; the creator by user name. */
export async function listOpenJoinTokens(s: Store): Promise<(Omit<JoinTokenRow, 'createdBy'> & { createdBy: string | null })[]> {
  const j = s.t.joinTokens;
  const rows = await s.db
    .select({ token: j, username: s.t.users.username })
    .from(j)
    .leftJoin(s.t.users, eq(s.t.users.id, j.createdBy))
    .where(and(isNull(j.usedAt), gt(j.expiresAt, dbNow(s))))
    .orderBy(desc(j.createdAt));
  return rows.map((r) => ({ ...r.token, createdBy: r.username }));
}
