import { and, eq, sql } from 'drizzle-orm';
import type { User } from '@/lib/contracts/auth';
import type { Role } from '@/lib/roles';
import type { Store } from '../client';

type UserRow = Store['t']['users']['$inferSelect'];

export function toUser(r: UserRow): User {
  return { id: r.id, username: r.username, role: r.role, disabled: r.disabled, createdAt: r.createdAt };
}

export async function insertUser(s: Store, u: { id: string; username: string; passwordHash: string; role: Role; now: number }): Promise<User> {
  const [row] = await s.db
    .insert(s.t.users)
    .values({ id: u.id, username: u.username, passwordHash: u.passwordHash, role: u.role, disabled: false, createdAt: u.now, updatedAt: u.now })
    .returning();
  return toUser(row);
}

/** The row with its password hash: only server/core/auth.ts should need it. */
export async function findUserRowByUsername(s: Store, username: string): Promise<UserRow | undefined> {
  const [row] = await s.db.select().from(s.t.users).where(eq(s.t.users.username, username)).limit(1);
  return row;
}

export async function getUser(s: Store, id: string): Promise<User | undefined> {
  const [row] = await s.db.select().from(s.t.users).where(eq(s.t.users.id, id)).limit(1);
  return row ? toUser(row) : undefined;
}

export async function countUsers(s: Store): Promise<number> {
  const [row] = await s.db.select({ n: sql<number>`count(*)` }).from(s.t.users);
  return Number(row?.n ?? 0);
}

export async function listUsers(s: Store): Promise<User[]> {
  return (await s.db.select().from(s.t.users).orderBy(s.t.users.username)).map(toUser);
}

export async function getUserRow(s: Store, id: string): Promise<UserRow | undefined> {
  const [row] = await s.db.select().from(s.t.users).where(eq(s.t.users.id, id)).limit(1);
  return row;
}

export async function updateUser(s: Store, id: string, patch: Partial<Pick<UserRow, 'role' | 'disabled' | 'passwordHash'>>, now: number): Promise<void> {
  await s.db
    .update(s.t.users)
    .set({ ...patch, updatedAt: now })
    .where(eq(s.t.users.id, id));
}

export async function deleteUser(s: Store, id: string): Promise<void> {
  await s.db.delete(s.t.users).where(eq(s.t.users.id, id));
}

/** Admins who can still log in: the last one may not be demoted, disabled or deleted. */
export async function countActiveAdmins(s: Store): Promise<number> {
  const [row] = await s.db
    .select({ n: sql<number>`count(*)` })
    .from(s.t.users)
    .where(and(eq(s.t.users.role, 'admin'), eq(s.t.users.disabled, false)));
  return Number(row?.n ?? 0);
}

export async function getUserPrefs(s: Store, id: string): Promise<string> {
  const [row] = await s.db.select({ prefsJson: s.t.users.prefsJson }).from(s.t.users).where(eq(s.t.users.id, id)).limit(1);
  return row?.prefsJson ?? '{}';
}

export async function setUserPrefs(s: Store, id: string, prefsJson: string): Promise<void> {
  await s.db.update(s.t.users).set({ prefsJson }).where(eq(s.t.users.id, id));
}
