import { idParams, listOf } from '@/lib/contracts/common';
import { putLimitsBodySchema, userLimitsSchema } from '@/lib/contracts/limits';
import { pageOf } from '@/server/core/paging';
import { defineRoute } from './route';

export const limitRoutes = [
  defineRoute({
    method: 'get',
    path: '/auth/limits',
    name: 'getMyLimits',
    tag: 'auth',
    summary: 'What the caller may hold (machines, vCPUs, memory, disk) and holds now',
    access: 'member',
    response: userLimitsSchema,
    errors: [404],
    handler: async ({ core, principal }) => core.limits.of(await core.limits.chargeTo(principal)),
  }),
  defineRoute({
    method: 'get',
    path: '/users/limits',
    name: 'listUserLimits',
    tag: 'users',
    summary: "Every user's limits as they apply, their overrides and what each holds",
    access: 'admin',
    list: {},
    response: listOf(userLimitsSchema),
    handler: async ({ core, page }) => {
      const all = await Promise.all((await core.users.list()).map((u) => core.limits.of(u.id)));
      return pageOf(all, page, (l) => l.username);
    },
  }),
  defineRoute({
    method: 'put',
    path: '/users/{id}/limits',
    name: 'putUserLimits',
    tag: 'users',
    summary: "Set a user's own limits (a key given replaces the role's default; null: no limit; absent: the role's)",
    access: 'admin',
    params: idParams,
    body: putLimitsBodySchema,
    response: userLimitsSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const r = await core.limits.setOverrides(params.id, body.overrides);
      await core.audit.record(principal, {
        action: 'user.limits',
        target: { kind: 'user', id: params.id },
        ip,
        detail: { username: r.username, ...body.overrides },
      });
      return r;
    },
  }),
];
