import { eq, sql } from 'drizzle-orm';
import type { LimitOverrides, Usage } from '@/lib/contracts/limits';
import type { Store } from '../client';

/** What a user's machines take together, as configured (every state: a stopped machine keeps its disk). */
export async function usageOf(s: Store, userId: string): Promise<Usage> {
  const m = s.t.machines;
  const [row] = await s.db
    .select({
      machines: sql<number>`count(*)`,
      vcpus: sql<number>`coalesce(sum(${m.cpus}), 0)`,
      memoryMib: sql<number>`coalesce(sum(${m.memoryMib}), 0)`,
      diskGib: sql<number>`coalesce(sum(${m.diskGib}), 0)`,
    })
    .from(m)
    .where(eq(m.ownerId, userId));
  return { machines: Number(row?.machines ?? 0), vcpus: Number(row?.vcpus ?? 0), memoryMib: Number(row?.memoryMib ?? 0), diskGib: Number(row?.diskGib ?? 0) };
}

export async function readLimitOverrides(s: Store, userId: string): Promise<LimitOverrides | undefined> {
  const [row] = await s.db.select({ j: s.t.users.limitsJson }).from(s.t.users).where(eq(s.t.users.id, userId)).limit(1);
  return row ? (JSON.parse(row.j) as LimitOverrides) : undefined;
}

export async function writeLimitOverrides(s: Store, userId: string, o: LimitOverrides, now: number): Promise<boolean> {
  const rows = await s.db
    .update(s.t.users)
    .set({ limitsJson: JSON.stringify(o), updatedAt: now })
    .where(eq(s.t.users.id, userId))
    .returning({ id: s.t.users.id });
  return rows.length > 0;
}
