import { okSchema } from '@/lib/contracts/common';
import { z } from 'zod';
import { defineRoute, refParams } from './route';

export const runRoutes = [
  defineRoute({
    method: 'post',
    // Under its machine: in a cluster the request goes to the node that runs it, where its input waits.
    path: '/machines/{ref}/stdin/{id}',
    name: 'feedRunStdin',
    tag: 'machines',
    summary:
      "A run's stdin (POST /machines/run with stdin: true; the machine and id from its start event), streamed as the raw body; its end is the command's EOF",
    access: 'operator',
    machineGrant: 'operator',
    params: refParams.extend({ id: z.string().regex(/^[0-9a-f]{32}$/, 'a run input id') }),
    upload: { type: 'application/octet-stream', description: 'The bytes for the command, as they come' },
    response: okSchema,
    errors: [404, 409],
    handler: async ({ c, core, principal, params, machine }) => {
      await core.runs.feed(principal, machine.id, params.id, c.req.raw.body);
      return { ok: true as const };
    },
  }),
];
