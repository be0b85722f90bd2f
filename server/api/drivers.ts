import { listOf } from '@/lib/contracts/common';
import { driverInfoSchema } from '@/lib/contracts/machines';
import { pageOf } from '@/server/core/paging';
import { defineRoute } from './route';

export const driverRoutes = [
  defineRoute({
    method: 'get',
    path: '/drivers',
    name: 'listDrivers',
    tag: 'system',
    summary: 'The machine drivers and what each can do on this host (consoles, checkpoints, networks, limits...)',
    access: 'viewer',
    list: {},
    response: listOf(driverInfoSchema),
    handler: async ({ core, page }) => pageOf(await core.machines.driverList(), page, (d) => d.kind),
  }),
];
