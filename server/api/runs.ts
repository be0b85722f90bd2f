import { okSchema } from '@/lib/contracts/common';
import { z } from 'zod';
import { defineRoute } from './route';

export const runRoutes = [
  defineRoute({
    method: 'post',
    path: '/runs/{id}/stdin',
    owner: { job: 'id' },
    name: 'feedRunStdin',
    tag: 'machines',
    summary: "A run's stdin (POST /machines/run with stdin: true; the id from its start event), streamed as the raw body; its end is the command's EOF",
    access: 'operator',
    params: z.object({ id: z.string().regex(/^[0-9a-f]{32}$/, 'a run input id') }),
    upload: { type: 'application/octet-stream', description: 'The bytes for the command, as they come' },
    response: okSchema,
    errors: [404, 409],
    handler: async ({ c, core, principal, params }) => {
      await core.runs.feed(principal, params.id, c.req.raw.body);
      return { ok: true as const };
    },
  }),
];
