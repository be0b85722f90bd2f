import { z } from 'zod';
import { driverInfoSchema } from '@/lib/contracts/machines';
import { defineRoute } from './route';

export const driverRoutes = [
  defineRoute({
    method: 'get',
    path: '/drivers',
    name: 'listDrivers',
    tag: 'system',
    summary: 'The machine drivers and what each can do on this host (consoles, checkpoints, networks, limits...)',
    access: 'viewer',
    response: z.object({ items: z.array(driverInfoSchema) }),
    handler: async ({ core }) => ({ items: await core.machines.driverList() }),
  }),
];
