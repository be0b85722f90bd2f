import { asc, eq } from 'drizzle-orm';
import type { Store } from '../client';

export type BackupTargetRow = Store['t']['backupTargets']['$inferSelect'];

export async function listBackupTargetRows(s: Store): Promise<BackupTargetRow[]> {
  return s.db.select().from(s.t.backupTargets).orderBy(asc(s.t.backupTargets.name));
}

export async function getBackupTargetRow(s: Store, ref: string): Promise<BackupTargetRow | undefined> {
  const t = s.t.backupTargets;
  const [byId] = await s.db.select().from(t).where(eq(t.id, ref)).limit(1);
  if (byId) return byId;
  const [byName] = await s.db.select().from(t).where(eq(t.name, ref)).limit(1);
  return byName;
}

export async function insertBackupTarget(s: Store, row: BackupTargetRow): Promise<void> {
  await s.db.insert(s.t.backupTargets).values(row);
}

export async function deleteBackupTargetRow(s: Store, id: string): Promise<boolean> {
  const rows = await s.db.delete(s.t.backupTargets).where(eq(s.t.backupTargets.id, id)).returning({ id: s.t.backupTargets.id });
  return rows.length > 0;
}
