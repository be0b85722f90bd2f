import { and, desc, eq, gt, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Store } from '../client';

export type ForkLinkRow = Store['t']['forkLinks']['$inferSelect'];
export type ForkLinkForkRow = Store['t']['forkLinkForks']['$inferSelect'];
export type ForkLinkForkPatch = Partial<Pick<ForkLinkForkRow, 'machineId' | 'shareId' | 'state' | 'reason' | 'endedAt'>>;

export async function insertForkLink(s: Store, row: ForkLinkRow): Promise<void> {
  await s.db.insert(s.t.forkLinks).values(row);
}

export async function getForkLink(s: Store, id: string): Promise<ForkLinkRow | undefined> {
  const [row] = await s.db.select().from(s.t.forkLinks).where(eq(s.t.forkLinks.id, id)).limit(1);
  return row;
}

export async function findForkLinkByHash(s: Store, tokenHash: string): Promise<ForkLinkRow | undefined> {
  const [row] = await s.db.select().from(s.t.forkLinks).where(eq(s.t.forkLinks.tokenHash, tokenHash)).limit(1);
  return row;
}

export async function listForkLinks(s: Store): Promise<ForkLinkRow[]> {
  return s.db.select().from(s.t.forkLinks).orderBy(desc(s.t.forkLinks.createdAt));
}

/**
 * Take one of the link's slots, or none: one conditional UPDATE, so openers racing each other
 * (a burst of 20 against a maximum of 3) cannot together pass the maximum. Null: used up,
 * expired or revoked (the caller reads the row again to say which).
 */
export async function reserveForkSlot(s: Store, id: string, now: number): Promise<number | null> {
  const t = s.t.forkLinks;
  const rows = await s.db
    .update(t)
    .set({ used: sql`${t.used} + 1` })
    .where(and(eq(t.id, id), lt(t.used, t.maxForks), isNull(t.revokedAt), gt(t.expiresAt, now)))
    .returning({ used: t.used });
  return rows[0]?.used ?? null;
}

/** A fork that did not start gives its slot back. */
export async function releaseForkSlot(s: Store, id: string): Promise<void> {
  const t = s.t.forkLinks;
  await s.db
    .update(t)
    .set({ used: sql`${t.used} - 1` })
    .where(and(eq(t.id, id), gt(t.used, 0)));
}

export async function revokeForkLink(s: Store, id: string, now: number): Promise<boolean> {
  const t = s.t.forkLinks;
  const rows = await s.db
    .update(t)
    .set({ revokedAt: now })
    .where(and(eq(t.id, id), isNull(t.revokedAt)))
    .returning({ id: t.id });
  return rows.length > 0;
}

export async function insertForkLinkFork(s: Store, row: ForkLinkForkRow): Promise<void> {
  await s.db.insert(s.t.forkLinkForks).values(row);
}

export async function updateForkLinkFork(s: Store, id: string, patch: ForkLinkForkPatch): Promise<void> {
  await s.db.update(s.t.forkLinkForks).set(patch).where(eq(s.t.forkLinkForks.id, id));
}

export async function getForkLinkFork(s: Store, id: string): Promise<ForkLinkForkRow | undefined> {
  const [row] = await s.db.select().from(s.t.forkLinkForks).where(eq(s.t.forkLinkForks.id, id)).limit(1);
  return row;
}

export async function listForkLinkForks(s: Store, linkId: string): Promise<ForkLinkForkRow[]> {
  return s.db.select().from(s.t.forkLinkForks).where(eq(s.t.forkLinkForks.linkId, linkId)).orderBy(desc(s.t.forkLinkForks.createdAt));
}

/** Forks still alive whose lifetime has run out: the sweeper destroys them. */
export async function expiredForkLinkForks(s: Store, now: number): Promise<ForkLinkForkRow[]> {
  const t = s.t.forkLinkForks;
  return s.db
    .select()
    .from(t)
    .where(and(inArray(t.state, ['starting', 'running']), lte(t.expiresAt, now)));
}

/** The fork whose console a share credential opens (a reopening browser's cookie). */
export async function forkByShare(s: Store, shareId: string): Promise<ForkLinkForkRow | undefined> {
  const [row] = await s.db.select().from(s.t.forkLinkForks).where(eq(s.t.forkLinkForks.shareId, shareId)).limit(1);
  return row;
}
