import type { Store } from '../client';

export async function readSettingRows(s: Store): Promise<Record<string, unknown>> {
  const rows = await s.db.select().from(s.t.settings);
  return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.valueJson)]));
}

export async function writeSetting(s: Store, key: string, value: unknown, now: number): Promise<void> {
  const valueJson = JSON.stringify(value);
  await s.db
    .insert(s.t.settings)
    .values({ key, valueJson, updatedAt: now })
    .onConflictDoUpdate({ target: s.t.settings.key, set: { valueJson, updatedAt: now } });
}
