import type { Store } from '@/db/client';
import { insertAuditEvent, listAuditEvents, type AuditEvent, type AuditFilter } from '@/db/repo/audit';
import type { Principal } from './auth';
import { newId } from './ids';

export interface AuditInput {
  action: string;
  target?: { kind: string; id: string | null };
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export class AuditLog {
  private readonly listeners: ((e: AuditEvent) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Told of every event once it is stored (webhooks); a listener must not throw or wait. */
  onRecord(fn: (e: AuditEvent) => void): void {
    this.listeners.push(fn);
  }

  async record(who: Principal | null, e: AuditInput): Promise<void> {
    const event: AuditEvent = {
      id: newId('aud'),
      ts: this.now(),
      actorKind: who ? (who.via === 'token' ? 'token' : who.via === 'share' ? 'share' : 'user') : 'anonymous',
      actorId: who?.user.id ?? null,
      actorName: who?.user.username ?? null,
      action: e.action,
      targetKind: e.target?.kind ?? null,
      targetId: e.target?.id ?? null,
      ip: e.ip ?? null,
      detail: {
        ...(who?.forwarded ? { forwardedBy: who.forwarded.by } : {}),
        ...(who?.tokenId ? { tokenId: who.tokenId } : {}),
        ...(who?.share ? { shareId: who.share.id } : {}),
        ...e.detail,
      },
    };
    await insertAuditEvent(this.store, event);
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (err) {
        console.error(`audit listener failed on ${event.action}:`, err);
      }
    }
  }

  list(f: AuditFilter): Promise<AuditEvent[]> {
    return listAuditEvents(this.store, f);
  }

  /** Every matching event, newest first, a page at a time (for the JSON lines export). */
  async *all(f: Omit<AuditFilter, 'limit' | 'before'>, page = 1000): AsyncGenerator<AuditEvent> {
    let before: AuditFilter['before'];
    for (;;) {
      const rows = await listAuditEvents(this.store, { ...f, before, limit: page });
      yield* rows;
      if (rows.length < page) return;
      before = { ts: rows[rows.length - 1].ts, id: rows[rows.length - 1].id };
    }
  }
}
