import type { AuditEvent } from '@/db/repo/audit';
import type { WebhookEvent } from '@/lib/contracts/webhooks';
import type { AuditLog } from '../audit';
import type { EventBus } from '../events';
import { onJobFinished } from '../job-finished';
import type { WebhookService } from './service';

/** Audit actions that are webhook events: what people did to machines, snapshots, shares and users. */
const FROM_AUDIT: Record<string, WebhookEvent> = {
  'machine.create': 'machine.created',
  'snapshot.restore': 'snapshot.restored',
  'snapshot.delete': 'snapshot.deleted',
  'share.create': 'share.created',
  'share.revoke': 'share.revoked',
  'user.create': 'user.created',
  'user.update': 'user.updated',
  'user.reset_password': 'user.updated',
  'user.delete': 'user.deleted',
};

const auditData = (e: AuditEvent) => ({
  action: e.action,
  actor: { kind: e.actorKind, id: e.actorId, name: e.actorName },
  target: e.targetKind ? { kind: e.targetKind, id: e.targetId } : null,
  detail: e.detail,
  at: e.ts,
});

/**
 * Feed webhooks from the audit log (changes people made) and the event bus (machine states as
 * they happen, jobs as they end, the snapshot tree). Each handler only queues: nothing here waits.
 */
export function feedWebhooks(hooks: WebhookService, bus: EventBus, audit: AuditLog, known: { id: string; name: string; state: string }[]): () => void {
  audit.onRecord((e) => {
    const event = FROM_AUDIT[e.action];
    if (event) hooks.emit(event, auditData(e));
  });
  // A machine's state change, not every update (tags, figures): the last state seen per machine.
  const states = new Map(known.map((m) => [m.id, { name: m.name, state: m.state }]));
  const offs = [
    bus.subscribe('machine:update', (m) => {
      const prev = states.get(m.id);
      states.set(m.id, { name: m.name, state: m.state });
      if (prev?.state !== m.state) hooks.emit('machine.state', { machine: m, previousState: prev?.state ?? null });
    }),
    bus.subscribe('machine:removed', ({ id }) => {
      const prev = states.get(id);
      states.delete(id);
      hooks.emit('machine.destroyed', { machine: { id, name: prev?.name ?? null } });
    }),
    onJobFinished(bus, (job) => hooks.emit(`job.${job.state}` as WebhookEvent, { job })),
    bus.subscribe('snapshots:changed', ({ id }) => hooks.emit('snapshot.changed', { snapshot: { id } })),
  ];
  return () => offs.forEach((off) => off());
}
