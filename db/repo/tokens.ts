import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { ApiToken } from '@/lib/contracts/auth';
import type { Role } from '@/lib/roles';
import type { Store } from '../client';
import { prepared } from './prepared';
import { toUser } from './users';

type TokenRow = Store['t']['apiTokens']['$inferSelect'];

function toApiToken(r: TokenRow): ApiToken {
  return { id: r.id, name: r.name, role: r.role, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, expiresAt: r.expiresAt };
}

export async function insertToken(
  s: Store,
  n: { id: string; userId: string; name: string; tokenHash: string; role: Role; now: number; expiresAt: number | null },
): Promise<ApiToken> {
  const [row] = await s.db
    .insert(s.t.apiTokens)
    .values({ id: n.id, userId: n.userId, name: n.name, tokenHash: n.tokenHash, role: n.role, createdAt: n.now, expiresAt: n.expiresAt })
    .returning();
  return toApiToken(row);
}

/** A live (not revoked) token with its user. Expiry is checked by the caller against its clock. */
export async function findTokenByHash(s: Store, tokenHash: string) {
  const q = prepared(s, 'findTokenByHash', () =>
    s.db
      .select({ token: s.t.apiTokens, user: s.t.users })
      .from(s.t.apiTokens)
      .innerJoin(s.t.users, eq(s.t.users.id, s.t.apiTokens.userId))
      .where(and(eq(s.t.apiTokens.tokenHash, sql.placeholder('hash')), isNull(s.t.apiTokens.revokedAt)))
      .limit(1)
      .prepare('findTokenByHash'),
  );
  const [row] = await q.execute({ hash: tokenHash });
  return row ? { token: row.token, user: toUser(row.user) } : undefined;
}

export async function listTokens(s: Store, userId: string): Promise<ApiToken[]> {
  const rows = await s.db
    .select()
    .from(s.t.apiTokens)
    .where(and(eq(s.t.apiTokens.userId, userId), isNull(s.t.apiTokens.revokedAt)))
    .orderBy(desc(s.t.apiTokens.createdAt));
  return rows.map(toApiToken);
}

/** Returns false when the token does not exist, is not the user's, or is already revoked. */
export async function revokeToken(s: Store, userId: string, id: string, now: number): Promise<boolean> {
  const rows = await s.db
    .update(s.t.apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(s.t.apiTokens.id, id), eq(s.t.apiTokens.userId, userId), isNull(s.t.apiTokens.revokedAt)))
    .returning({ id: s.t.apiTokens.id });
  return rows.length > 0;
}

export async function touchToken(s: Store, id: string, now: number): Promise<void> {
  await s.db.update(s.t.apiTokens).set({ lastUsedAt: now }).where(eq(s.t.apiTokens.id, id));
}
