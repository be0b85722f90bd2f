import { z } from 'zod';
import { hostInfoSchema } from '@/lib/contracts/host';
import { defineRoute } from './route';

export const hostRoutes = [
  defineRoute({
    method: 'get',
    path: '/host',
    name: 'getHostInfo',
    tag: 'system',
    summary: 'What this host can do, with reasons',
    access: 'viewer',
    query: z.object({ refresh: z.enum(['0', '1']).default('0') }),
    response: hostInfoSchema,
    handler: async ({ core, query }) => core.host.info(query.refresh === '1'),
  }),
];
