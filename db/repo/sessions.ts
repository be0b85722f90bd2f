import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Store } from '../client';
import { prepared } from './prepared';
import { toUser } from './users';

export interface NewSession {
  id: string;
  userId: string;
  tokenHash: string;
  now: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

export async function insertSession(s: Store, n: NewSession): Promise<void> {
  await s.db.insert(s.t.sessions).values({
    id: n.id,
    userId: n.userId,
    tokenHash: n.tokenHash,
    createdAt: n.now,
    lastSeenAt: n.now,
    expiresAt: n.expiresAt,
    ip: n.ip,
    userAgent: n.userAgent,
  });
}

export async function findSessionByHash(s: Store, tokenHash: string) {
  const q = prepared(s, 'findSessionByHash', () =>
    s.db
      .select({ session: s.t.sessions, user: s.t.users })
      .from(s.t.sessions)
      .innerJoin(s.t.users, eq(s.t.users.id, s.t.sessions.userId))
      .where(eq(s.t.sessions.tokenHash, sql.placeholder('hash')))
      .limit(1)
      .prepare('findSessionByHash'),
  );
  const [row] = await q.execute({ hash: tokenHash });
  return row ? { session: row.session, user: toUser(row.user) } : undefined;
}

export async function touchSession(s: Store, id: string, now: number, expiresAt: number): Promise<void> {
  await s.db.update(s.t.sessions).set({ lastSeenAt: now, expiresAt }).where(eq(s.t.sessions.id, id));
}

export async function deleteSession(s: Store, id: string): Promise<void> {
  await s.db.delete(s.t.sessions).where(eq(s.t.sessions.id, id));
}

export async function deleteExpiredSessions(s: Store, now: number): Promise<void> {
  await s.db.delete(s.t.sessions).where(lt(s.t.sessions.expiresAt, now));
}

export async function listSessions(s: Store, userId: string) {
  return s.db.select().from(s.t.sessions).where(eq(s.t.sessions.userId, userId)).orderBy(desc(s.t.sessions.lastSeenAt));
}

export async function getSession(s: Store, id: string) {
  const [row] = await s.db.select().from(s.t.sessions).where(eq(s.t.sessions.id, id)).limit(1);
  return row;
}

/** Every session of a user, or all but one (a password change keeps the session it came from). */
export async function deleteUserSessions(s: Store, userId: string, except?: string): Promise<void> {
  await s.db.delete(s.t.sessions).where(except ? and(eq(s.t.sessions.userId, userId), ne(s.t.sessions.id, except)) : eq(s.t.sessions.userId, userId));
}
