import { driverInfoSchema } from '@/lib/contracts/machines';
import { listOf } from '@/lib/contracts/common';
import { padKey, pageOf } from '@/server/core/paging';
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
    // In the host's order, not by name: the new-machine form offers the first usable driver first (QEMU before nspawn).
    handler: async ({ core, page }) => {
      const all = await core.machines.driverList();
      return pageOf(all, page, (d) => `${padKey(all.indexOf(d))}:${d.kind}`);
    },
  }),
];
