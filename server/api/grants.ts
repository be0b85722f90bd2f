import { z } from 'zod';
import { idSchema, listOf, okSchema } from '@/lib/contracts/common';
import { grantSchema, machineAccessSchema, putGrantBodySchema } from '@/lib/contracts/grants';
import { defineRoute } from './route';

const refParams = z.object({ ref: z.string().min(1).max(128) });

/** Per-machine roles: operators and the machine's owners give teammates this one machine. */
export const grantRoutes = [
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/access',
    tag: 'grants',
    summary: 'Your role on this machine (global or granted), for the page to show what you may do',
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: machineAccessSchema,
    handler: async ({ core, principal, params }) => ({
      role: await core.grants.roleOn(principal, params.ref),
      global: principal.role,
      grant: await core.grants.grantOn(principal, params.ref),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/grants',
    tag: 'grants',
    summary: 'Who has a role on this machine',
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    response: listOf(grantSchema),
    handler: async ({ core, principal, params }) => ({ items: await core.grants.list(principal, params.ref) }),
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/grants',
    tag: 'grants',
    summary: 'Give a user a role on this machine (owner, operator, viewer); replaces theirs',
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    body: putGrantBodySchema,
    response: grantSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const g = await core.grants.put(principal, params.ref, body);
      const m = await core.machines.get(principal, params.ref);
      await core.audit.record(principal, { action: 'grant.put', target: { kind: 'machine', id: m.id }, ip, detail: { user: g.username, role: g.role } });
      return g;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}/grants/{userId}',
    tag: 'grants',
    summary: "Take a user's role on this machine away",
    access: 'operator',
    machineGrant: 'owner',
    params: refParams.extend({ userId: idSchema }),
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      await core.grants.remove(principal, params.ref, params.userId);
      const m = await core.machines.get(principal, params.ref);
      await core.audit.record(principal, { action: 'grant.remove', target: { kind: 'machine', id: m.id }, ip, detail: { userId: params.userId } });
      return { ok: true as const };
    },
  }),
];
