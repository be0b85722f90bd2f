import { desc } from 'drizzle-orm';
import type { Store } from '../client';

export interface AuditEvent {
  id: string;
  ts: number;
  actorKind: 'user' | 'token' | 'share' | 'system' | 'anonymous';
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetKind: string | null;
  targetId: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export async function insertAuditEvent(s: Store, e: AuditEvent): Promise<void> {
  const { detail, ...rest } = e;
  await s.db.insert(s.t.auditEvents).values({ ...rest, detailJson: JSON.stringify(detail) });
}

export async function listAuditEvents(s: Store, limit: number): Promise<AuditEvent[]> {
  const rows = await s.db.select().from(s.t.auditEvents).orderBy(desc(s.t.auditEvents.ts)).limit(limit);
  return rows.map(({ detailJson, ...r }) => ({ ...r, detail: JSON.parse(detailJson) }));
}
