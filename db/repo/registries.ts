import { asc, eq } from 'drizzle-orm';
import type { Store } from '../client';

export type RegistryRow = Store['t']['registries']['$inferSelect'];

export async function listRegistryRows(s: Store): Promise<RegistryRow[]> {
  return s.db.select().from(s.t.registries).orderBy(asc(s.t.registries.host));
}

export async function getRegistryRow(s: Store, host: string): Promise<RegistryRow | undefined> {
  const [row] = await s.db.select().from(s.t.registries).where(eq(s.t.registries.host, host)).limit(1);
  return row;
}

export async function putRegistryRow(s: Store, row: RegistryRow): Promise<void> {
  const { insecure, username, password, ca, updatedAt } = row;
  await s.db.insert(s.t.registries).values(row).onConflictDoUpdate({ target: s.t.registries.host, set: { insecure, username, password, ca, updatedAt } });
}

/** Only when absent: for settings brought over from a node's files, never over what the cluster already has. True when added. */
export async function addRegistryRowIfAbsent(s: Store, row: RegistryRow): Promise<boolean> {
  const added = await s.db.insert(s.t.registries).values(row).onConflictDoNothing().returning({ host: s.t.registries.host });
  return added.length > 0;
}

export async function deleteRegistryRow(s: Store, host: string): Promise<boolean> {
  const rows = await s.db.delete(s.t.registries).where(eq(s.t.registries.host, host)).returning({ host: s.t.registries.host });
  return rows.length > 0;
}
