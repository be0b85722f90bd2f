import { and, asc, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { Store } from '../client';

export type WebhookRow = Store['t']['webhooks']['$inferSelect'];
export type DeliveryRow = Store['t']['webhookDeliveries']['$inferSelect'];

export async function listWebhookRows(s: Store): Promise<WebhookRow[]> {
  return s.db.select().from(s.t.webhooks).orderBy(asc(s.t.webhooks.createdAt));
}

export async function insertWebhook(s: Store, row: WebhookRow): Promise<void> {
  await s.db.insert(s.t.webhooks).values(row);
}

export async function updateWebhookRow(s: Store, id: string, set: Partial<WebhookRow>): Promise<void> {
  await s.db.update(s.t.webhooks).set(set).where(eq(s.t.webhooks.id, id));
}

export async function deleteWebhookRow(s: Store, id: string): Promise<boolean> {
  // Deliveries first: SQLite without foreign keys enforced would leave them.
  await s.db.delete(s.t.webhookDeliveries).where(eq(s.t.webhookDeliveries.webhookId, id));
  const rows = await s.db.delete(s.t.webhooks).where(eq(s.t.webhooks.id, id)).returning({ id: s.t.webhooks.id });
  return rows.length > 0;
}

export async function insertDelivery(s: Store, row: DeliveryRow): Promise<void> {
  await s.db.insert(s.t.webhookDeliveries).values(row);
}

export async function updateDelivery(s: Store, id: string, set: Partial<DeliveryRow>): Promise<void> {
  await s.db.update(s.t.webhookDeliveries).set(set).where(eq(s.t.webhookDeliveries.id, id));
}

export async function getDelivery(s: Store, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await s.db.select().from(s.t.webhookDeliveries).where(eq(s.t.webhookDeliveries.id, id)).limit(1);
  return row;
}

/** A webhook's deliveries, newest first. */
export async function listDeliveries(s: Store, webhookId: string): Promise<DeliveryRow[]> {
  const d = s.t.webhookDeliveries;
  return s.db.select().from(d).where(eq(d.webhookId, webhookId)).orderBy(desc(d.createdAt), desc(d.id));
}

/** Deliveries not finished when the server stopped: sent again after a restart. */
export async function listUnfinishedDeliveries(s: Store): Promise<DeliveryRow[]> {
  const d = s.t.webhookDeliveries;
  return s.db
    .select()
    .from(d)
    .where(inArray(d.state, ['pending', 'retrying']))
    .orderBy(asc(d.createdAt));
}

/** Keep the newest `keep` finished deliveries of a webhook (those still being sent stay). */
export async function pruneDeliveries(s: Store, webhookId: string, keep: number): Promise<void> {
  const d = s.t.webhookDeliveries;
  const rows = await s.db.select({ id: d.id, createdAt: d.createdAt }).from(d).where(eq(d.webhookId, webhookId)).orderBy(desc(d.createdAt), desc(d.id));
  if (rows.length <= keep) return;
  const edge = rows[keep - 1];
  await s.db
    .delete(d)
    .where(
      and(
        eq(d.webhookId, webhookId),
        inArray(d.state, ['succeeded', 'failed']),
        or(lt(d.createdAt, edge.createdAt), and(eq(d.createdAt, edge.createdAt), lt(d.id, edge.id))),
      ),
    );
}
