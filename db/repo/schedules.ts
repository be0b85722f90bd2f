import { and, asc, eq } from 'drizzle-orm';
import type { Store } from '../client';

export type ScheduleRow = Store['t']['schedules']['$inferSelect'];
export type ScheduleInsert = Store['t']['schedules']['$inferInsert'];

export async function listScheduleRows(s: Store): Promise<ScheduleRow[]> {
  return s.db.select().from(s.t.schedules).orderBy(asc(s.t.schedules.createdAt), asc(s.t.schedules.id));
}

export async function getScheduleRow(s: Store, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await s.db.select().from(s.t.schedules).where(eq(s.t.schedules.id, id)).limit(1);
  return row;
}

export async function insertSchedule(s: Store, row: ScheduleInsert): Promise<void> {
  await s.db.insert(s.t.schedules).values(row);
}

export async function updateScheduleRow(s: Store, id: string, set: Partial<ScheduleRow>): Promise<void> {
  await s.db.update(s.t.schedules).set(set).where(eq(s.t.schedules.id, id));
}

export async function deleteScheduleRow(s: Store, id: string): Promise<boolean> {
  const rows = await s.db.delete(s.t.schedules).where(eq(s.t.schedules.id, id)).returning({ id: s.t.schedules.id });
  return rows.length > 0;
}

/** A machine's schedules go with it. */
export async function deleteMachineSchedules(s: Store, machineId: string): Promise<void> {
  await s.db.delete(s.t.schedules).where(eq(s.t.schedules.machineId, machineId));
}

/** The complete snapshots a schedule took of a machine (what its retention chooses among). */
export async function scheduledSnapshots(s: Store, scheduleId: string, machineId: string): Promise<{ id: string; createdAt: number; label: string }[]> {
  const t = s.t.snapshots;
  return s.db
    .select({ id: t.id, createdAt: t.createdAt, label: t.label })
    .from(t)
    .where(and(eq(t.scheduleId, scheduleId), eq(t.machineId, machineId), eq(t.state, 'complete')));
}
