import { and, eq } from 'drizzle-orm';
import type { Store } from '../client';

export type GrantRow = Store['t']['machineGrants']['$inferSelect'];

export async function grantsOf(s: Store, machineId: string) {
  return s.db
    .select({ grant: s.t.machineGrants, username: s.t.users.username })
    .from(s.t.machineGrants)
    .innerJoin(s.t.users, eq(s.t.users.id, s.t.machineGrants.userId))
    .where(eq(s.t.machineGrants.machineId, machineId))
    .orderBy(s.t.users.username);
}

export async function grantFor(s: Store, machineId: string, userId: string): Promise<GrantRow | undefined> {
  const [row] = await s.db
    .select()
    .from(s.t.machineGrants)
    .where(and(eq(s.t.machineGrants.machineId, machineId), eq(s.t.machineGrants.userId, userId)))
    .limit(1);
  return row;
}

/** One grant per user and machine: a new role replaces the old. */
export async function putGrant(s: Store, g: GrantRow): Promise<void> {
  await s.db
    .insert(s.t.machineGrants)
    .values(g)
    .onConflictDoUpdate({
      target: [s.t.machineGrants.machineId, s.t.machineGrants.userId],
      set: { role: g.role, createdBy: g.createdBy, createdAt: g.createdAt },
    });
}

export async function deleteGrant(s: Store, machineId: string, userId: string): Promise<boolean> {
  const rows = await s.db
    .delete(s.t.machineGrants)
    .where(and(eq(s.t.machineGrants.machineId, machineId), eq(s.t.machineGrants.userId, userId)))
    .returning({ u: s.t.machineGrants.userId });
  return rows.length > 0;
}

export async function grantsOfUser(s: Store, userId: string): Promise<GrantRow[]> {
  return s.db.select().from(s.t.machineGrants).where(eq(s.t.machineGrants.userId, userId));
}
