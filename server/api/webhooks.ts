import { z } from 'zod';
import { idParams, idSchema, listOf } from '@/lib/contracts/common';
import {
  createdWebhookSchema,
  createWebhookBodySchema,
  updateWebhookBodySchema,
  webhookDeliverySchema,
  webhookSchema,
  type UpdateWebhookBody,
} from '@/lib/contracts/webhooks';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { defineRoute } from './route';

// Webhooks are the server's, not a person's: admins manage them (a URL and a secret reach outside).
const deliveryParams = z.object({ id: idSchema, delivery: idSchema });
/** What the audit log keeps of a change: never the secret. */
const auditDetail = (b: { url?: string; events?: string[]; enabled?: boolean; description?: string | null }) => ({
  ...(b.url !== undefined ? { url: b.url } : {}),
  ...(b.events !== undefined ? { events: b.events } : {}),
  ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
  ...(b.description !== undefined ? { description: b.description } : {}),
});

export const webhookRoutes = [
  defineRoute({
    method: 'get',
    path: '/webhooks',
    name: 'listWebhooks',
    tag: 'webhooks',
    summary: 'Webhooks (never their secrets), oldest first',
    access: 'admin',
    list: {},
    response: listOf(webhookSchema),
    handler: async ({ core, page }) => pageOf(core.webhooks.list(), page, (w) => timeIdKey(w.createdAt, w.id)),
  }),
  defineRoute({
    method: 'post',
    path: '/webhooks',
    name: 'createWebhook',
    tag: 'webhooks',
    summary: 'Add a webhook; its signing secret is returned once. A URL pointing at this host, loopback or link-local is refused (400)',
    access: 'admin',
    status: 201,
    body: createWebhookBodySchema,
    response: createdWebhookSchema,
    handler: async ({ core, principal, body, ip }) => {
      const r = await core.webhooks.create(principal, body);
      await core.audit.record(principal, { action: 'webhook.create', target: { kind: 'webhook', id: r.webhook.id }, ip, detail: auditDetail(body) });
      return r;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/webhooks/{id}',
    name: 'getWebhook',
    tag: 'webhooks',
    summary: 'One webhook',
    access: 'admin',
    params: idParams,
    response: webhookSchema,
    handler: async ({ core, params }) => core.webhooks.get(params.id),
  }),
  defineRoute({
    method: 'patch',
    path: '/webhooks/{id}',
    name: 'updateWebhook',
    tag: 'webhooks',
    summary: 'Change a webhook: URL (checked as on creation), events, description, on or off',
    access: 'admin',
    params: idParams,
    body: updateWebhookBodySchema,
    response: webhookSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const w = await core.webhooks.update(params.id, body as UpdateWebhookBody);
      await core.audit.record(principal, { action: 'webhook.update', target: { kind: 'webhook', id: w.id }, ip, detail: auditDetail(body) });
      return w;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/webhooks/{id}',
    name: 'deleteWebhook',
    tag: 'webhooks',
    summary: 'Delete a webhook and its deliveries',
    access: 'admin',
    params: idParams,
    response: webhookSchema,
    handler: async ({ core, principal, params, ip }) => {
      const w = await core.webhooks.remove(params.id);
      await core.audit.record(principal, { action: 'webhook.delete', target: { kind: 'webhook', id: w.id }, ip, detail: { url: w.url } });
      return w;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    name: 'listWebhookDeliveries',
    tag: 'webhooks',
    summary: "A webhook's last deliveries, newest first: state, attempts, response code, duration",
    access: 'admin',
    params: idParams,
    list: {},
    response: listOf(webhookDeliverySchema),
    handler: async ({ core, params, page }) => pageOf(await core.webhooks.deliveries(params.id), page, (d) => timeIdKey(d.createdAt, d.id), true),
  }),
  defineRoute({
    method: 'post',
    path: '/webhooks/{id}/deliveries/{delivery}/redeliver',
    name: 'redeliverWebhook',
    tag: 'webhooks',
    summary: 'Send a past delivery again (a new delivery, signed afresh)',
    access: 'admin',
    status: 202,
    params: deliveryParams,
    response: webhookDeliverySchema,
    handler: async ({ core, principal, params, ip }) => {
      const d = await core.webhooks.redeliver(params.id, params.delivery);
      await core.audit.record(principal, {
        action: 'webhook.redeliver',
        target: { kind: 'webhook', id: params.id },
        ip,
        detail: { delivery: params.delivery },
      });
      return d;
    },
  }),
];
