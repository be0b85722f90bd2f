import { and, desc, eq, gte, like, lt, lte, or, type SQL } from 'drizzle-orm';
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

export interface AuditFilter {
  /** An action, or a prefix ending in a dot: `machine.` matches every machine action. */
  action?: string;
  /** A username, or a token or share link id. */
  actor?: string;
  targetId?: string;
  since?: number;
  until?: number;
  /** Older than this event (ts, id): the next page. */
  before?: { ts: number; id: string };
  limit: number;
}

export async function listAuditEvents(s: Store, f: AuditFilter): Promise<AuditEvent[]> {
  const a = s.t.auditEvents;
  const where: SQL[] = [];
  if (f.action) where.push(f.action.endsWith('.') ? like(a.action, `${f.action.replace(/[%_\\]/g, '')}%`) : eq(a.action, f.action));
  if (f.actor) where.push(or(eq(a.actorName, f.actor), eq(a.actorId, f.actor), like(a.detailJson, `%"tokenId":"${f.actor.replace(/[^A-Za-z0-9_]/g, '')}"%`))!);
  if (f.targetId) where.push(eq(a.targetId, f.targetId));
  if (f.since !== undefined) where.push(gte(a.ts, f.since));
  if (f.until !== undefined) where.push(lte(a.ts, f.until));
  if (f.before) where.push(or(lt(a.ts, f.before.ts), and(eq(a.ts, f.before.ts), lt(a.id, f.before.id)))!);
  const rows = await s.db
    .select()
    .from(a)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(a.ts), desc(a.id))
    .limit(f.limit);
  return rows.map(({ detailJson, ...r }) => ({ ...r, detail: JSON.parse(detailJson) }));
}
