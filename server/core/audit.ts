import type { Store } from '@/db/client';
import { insertAuditEvent, listAuditEvents, type AuditEvent } from '@/db/repo/audit';
import type { Principal } from './auth';
import { newId } from './ids';

export interface AuditInput {
  action: string;
  target?: { kind: string; id: string | null };
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async record(who: Principal | null, e: AuditInput): Promise<void> {
    await insertAuditEvent(this.store, {
      id: newId('aud'),
      ts: this.now(),
      actorKind: who ? (who.via === 'token' ? 'token' : 'user') : 'anonymous',
      actorId: who?.user.id ?? null,
      actorName: who?.user.username ?? null,
      action: e.action,
      targetKind: e.target?.kind ?? null,
      targetId: e.target?.id ?? null,
      ip: e.ip ?? null,
      detail: { ...(who?.tokenId ? { tokenId: who.tokenId } : {}), ...e.detail },
    });
  }

  list(limit: number): Promise<AuditEvent[]> {
    return listAuditEvents(this.store, limit);
  }
}
