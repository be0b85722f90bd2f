import { idParams, listOf } from '@/lib/contracts/common';
import { machineSchema } from '@/lib/contracts/machines';
import { defineRoute } from './route';

export const machineRoutes = [
  defineRoute({
    method: 'get', path: '/machines', tag: 'machines', summary: 'Machines', access: 'viewer',
    response: listOf(machineSchema),
    handler: async ({ core, principal }) => ({ items: await core.machines.list(principal) }),
  }),
  defineRoute({
    method: 'get', path: '/machines/{id}', tag: 'machines', summary: 'One machine', access: 'viewer',
    params: idParams, response: machineSchema,
    handler: async ({ core, principal, params }) => core.machines.get(principal, params.id),
  }),
];
