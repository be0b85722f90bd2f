import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/** What a webhook may be told about. Machine, snapshot, share and user changes come from the audit log; states and jobs from the event bus. */
export const WEBHOOK_EVENTS = [
  'machine.created',
  'machine.destroyed',
  'machine.state',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'snapshot.changed',
  'snapshot.restored',
  'snapshot.deleted',
  'share.created',
  'share.revoked',
  'user.created',
  'user.updated',
  'user.deleted',
] as const;
export const webhookEventSchema = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** http(s) only; where it points is checked on the server (no loopback, link-local or the host's own addresses). */
export const webhookUrlSchema = z
  .string()
  .trim()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'an http:// or https:// URL without credentials');

export const webhookSchema = z.object({
  id: idSchema,
  url: z.string(),
  events: z.array(webhookEventSchema),
  description: z.string().nullable(),
  enabled: z.boolean(),
  createdBy: z.string().nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type Webhook = z.infer<typeof webhookSchema>;

const eventsSchema = z
  .array(webhookEventSchema)
  .min(1, 'choose at least one event')
  .max(WEBHOOK_EVENTS.length)
  .refine((a) => new Set(a).size === a.length, 'each event once');
const secretSchema = z
  .string()
  .min(16, 'at least 16 characters')
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const createWebhookBodySchema = z.object({
  url: webhookUrlSchema,
  events: eventsSchema,
  /** Generated when left out; returned once either way. */
  secret: secretSchema.optional(),
  description: z.string().trim().min(1).max(200).optional(),
  enabled: z.boolean().default(true),
});
export type CreateWebhookBody = z.input<typeof createWebhookBodySchema>;

export const updateWebhookBodySchema = z.object({
  url: webhookUrlSchema.optional(),
  events: eventsSchema.optional(),
  description: z.string().trim().max(200).nullable().optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookBody = z.infer<typeof updateWebhookBodySchema>;

/** The secret signs every delivery; it is shown here once and never again. */
export const createdWebhookSchema = z.object({ webhook: webhookSchema, secret: z.string() });

export const deliveryStateSchema = z.enum(['pending', 'retrying', 'succeeded', 'failed']);
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

export const webhookDeliverySchema = z.object({
  id: idSchema,
  webhookId: idSchema,
  event: webhookEventSchema,
  state: deliveryStateSchema,
  /** Attempts made so far (bounded: see the README). */
  attempts: z.number().int().nonnegative(),
  /** The receiver's HTTP status of the last attempt; null when it never answered. */
  responseCode: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  error: z.string().nullable(),
  createdAt: timestampSchema,
  lastAttemptAt: timestampSchema.nullable(),
  nextAttemptAt: timestampSchema.nullable(),
  /** The delivery this one sends again (a redelivery by hand). */
  redeliveryOf: z.string().nullable(),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

/** The JSON body a receiver gets (signed: Hangar-Signature: t=TIMESTAMP,v1=HEX). */
export const webhookPayloadSchema = z.object({
  id: z.string(),
  event: webhookEventSchema,
  createdAt: timestampSchema,
  data: z.record(z.string(), z.unknown()),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
