import { asc, eq } from 'drizzle-orm';
import type { Store } from '../client';

export type IsoRow = Store['t']['isos']['$inferSelect'];

export async function insertIso(s: Store, row: IsoRow): Promise<void> {
  await s.db.insert(s.t.isos).values(row);
}

export async function getIsoRow(s: Store, name: string): Promise<IsoRow | undefined> {
  const [row] = await s.db.select().from(s.t.isos).where(eq(s.t.isos.name, name)).limit(1);
  return row;
}

export async function listIsoRows(s: Store): Promise<IsoRow[]> {
  return s.db.select().from(s.t.isos).orderBy(asc(s.t.isos.name));
}

export async function deleteIsoRow(s: Store, name: string): Promise<void> {
  await s.db.delete(s.t.isos).where(eq(s.t.isos.name, name));
}
