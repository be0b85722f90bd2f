import { z } from 'zod';

export const auditEventSchema = z.object({
  id: z.string(),
  ts: z.number().int(),
  /** user (session), token, share (a share link), system, anonymous. */
  actorKind: z.enum(['user', 'token', 'share', 'system', 'anonymous']),
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  action: z.string(),
  targetKind: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  /** Extra facts: the token or link used, the role, what changed. */
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEventInfo = z.infer<typeof auditEventSchema>;

const ms = z.coerce.number().int().min(0).max(8.64e15);

export const auditQuerySchema = z.object({
  action: z
    .string()
    .regex(/^[a-z_.]{1,64}$/, 'an action such as machine.create, or a prefix such as machine.')
    .optional(),
  actor: z.string().min(1).max(64).optional(),
  target: z.string().min(1).max(64).optional(),
  since: ms.optional(),
  until: ms.optional(),
});
/** As a client writes it (the server coerces the query string); `cursor` and `limit` page (the `next` of the previous page). */
export type AuditQuery = { action?: string; actor?: string; target?: string; since?: number; until?: number; cursor?: string; limit?: number };

export const auditPageSchema = z.object({ items: z.array(auditEventSchema), next: z.string().nullable() });
