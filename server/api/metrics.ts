import { createdScrapeTokenSchema, scrapeTokenInfoSchema } from '@/lib/contracts/metrics';
import { defineRoute } from './route';

export const metricsRoutes = [
  defineRoute({
    method: 'get',
    path: '/metrics/token',
    name: 'getScrapeToken',
    tag: 'metrics',
    summary: 'Whether a Prometheus scrape token is set for GET /metrics (never the token)',
    access: 'admin',
    response: scrapeTokenInfoSchema,
    handler: async ({ core }) => core.metrics.tokenInfo(),
  }),
  defineRoute({
    method: 'post',
    path: '/metrics/token',
    name: 'createScrapeToken',
    tag: 'metrics',
    summary: 'Make a new scrape token (the old one stops working); returned once',
    access: 'admin',
    status: 201,
    response: createdScrapeTokenSchema,
    handler: async ({ core, principal, ip }) => {
      const t = await core.metrics.newToken();
      await core.audit.record(principal, { action: 'metrics.token_create', ip });
      return t;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/metrics/token',
    name: 'deleteScrapeToken',
    tag: 'metrics',
    summary: 'Remove the scrape token: only admins can read /metrics then',
    access: 'admin',
    response: scrapeTokenInfoSchema,
    handler: async ({ core, principal, ip }) => {
      await core.metrics.removeToken();
      await core.audit.record(principal, { action: 'metrics.token_delete', ip });
      return core.metrics.tokenInfo();
    },
  }),
];
