import { apiTokenSchema, createTokenBodySchema, createdTokenSchema } from '@/lib/contracts/auth';
import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { defineRoute } from './route';

export const tokenRoutes = [
  defineRoute({
    method: 'get',
    path: '/tokens',
    name: 'listTokens',
    tag: 'auth',
    summary: 'Your API tokens (never their secrets), newest first',
    access: 'member',
    list: {},
    response: listOf(apiTokenSchema),
    handler: async ({ core, principal, page }) => pageOf(await core.auth.listTokens(principal), page, (t) => timeIdKey(t.createdAt, t.id), true),
  }),
  defineRoute({
    method: 'post',
    path: '/tokens',
    name: 'createToken',
    tag: 'auth',
    summary: 'Create an API token; the secret is returned once',
    access: 'member',
    status: 201,
    body: createTokenBodySchema,
    response: createdTokenSchema,
    handler: async ({ core, principal, body, ip }) => {
      const created = await core.auth.createToken(principal, body);
      await core.audit.record(principal, { action: 'token.create', target: { kind: 'token', id: created.token.id }, ip, detail: { role: created.token.role } });
      return created;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/tokens/{id}',
    name: 'revokeToken',
    tag: 'auth',
    summary: 'Revoke one of your API tokens',
    access: 'member',
    params: idParams,
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      await core.auth.revokeToken(principal, params.id);
      await core.audit.record(principal, { action: 'token.revoke', target: { kind: 'token', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
];
