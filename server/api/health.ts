import { healthSchema } from '@/lib/contracts/health';
import { defineRoute } from './route';

export const healthRoutes = [
  defineRoute({
    method: 'get',
    path: '/health',
    name: 'getHealth',
    tag: 'system',
    summary: 'Liveness and version',
    access: 'public',
    response: healthSchema,
    handler: async ({ core }) => ({
      ok: true as const,
      version: core.version,
      uptimeS: (Date.now() - core.startedAt) / 1000,
      db: core.store.dialect,
      transport: core.transport,
      cluster: core.cluster.enabled ? { enabled: true, node: core.cluster.self.name } : { enabled: false },
    }),
  }),
];
