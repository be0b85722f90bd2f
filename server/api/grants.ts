import { idSchema, listOf, okSchema } from '@/lib/contracts/common';
import { grantSchema, machineAccessSchema, putGrantBodySchema } from '@/lib/contracts/grants';
import { pageOf } from '@/server/core/paging';
import { defineRoute, refParams } from './route';

/** Per-machine roles: operators and the machine's owners give teammates this one machine. */
export const grantRoutes = [
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/access',
    // Rows only: any node answers.
    owner: 'any',
    name: 'getMachineAccess',
    tag: 'grants',
    summary: 'Your role on this machine (global or granted), for the page to show what you may do',
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: machineAccessSchema,
    handler: async ({ core, principal, machine }) => ({
      role: await core.grants.roleOn(principal, machine),
      global: principal.role,
      grant: await core.grants.grantOn(principal, machine),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/grants',
    // Rows only: any node answers.
    owner: 'any',
    name: 'listGrants',
    tag: 'grants',
    summary: 'Who has a role on this machine, by username',
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    list: {},
    response: listOf(grantSchema),
    handler: async ({ core, principal, machine, page }) => pageOf(await core.grants.list(principal, machine.id), page, (g) => g.username),
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/grants',
    // Rows only: any node answers.
    owner: 'any',
    name: 'putGrant',
    tag: 'grants',
    summary: 'Give a user a role on this machine (owner, operator, viewer); replaces theirs',
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    body: putGrantBodySchema,
    response: grantSchema,
    handler: async ({ core, principal, machine: m, body, ip }) => {
      const g = await core.grants.put(principal, m.id, body);
      await core.audit.record(principal, { action: 'grant.put', target: { kind: 'machine', id: m.id }, ip, detail: { user: g.username, role: g.role } });
      return g;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}/grants/{userId}',
    // Rows only: any node answers.
    owner: 'any',
    name: 'removeGrant',
    tag: 'grants',
    summary: "Take a user's role on this machine away",
    access: 'operator',
    machineGrant: 'owner',
    params: refParams.extend({ userId: idSchema }),
    response: okSchema,
    handler: async ({ core, principal, params, machine: m, ip }) => {
      await core.grants.remove(principal, m.id, params.userId);
      await core.audit.record(principal, { action: 'grant.remove', target: { kind: 'machine', id: m.id }, ip, detail: { userId: params.userId } });
      return { ok: true as const };
    },
  }),
];
