import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import { createSsoProviderBodySchema, signInOptionsSchema, ssoProviderSchema, updateSsoProviderBodySchema } from '@/lib/contracts/sso';
import { pageOf } from '@/server/core/paging';
import { defineRoute } from './route';

/** Sign-in providers (admins) and what the login page offers (anyone). The browser's own flow is at /sso/ (server/transport/sso.ts). */
export const ssoRoutes = [
  defineRoute({
    method: 'get',
    path: '/auth/sign-in-options',
    name: 'getSignInOptions',
    tag: 'auth',
    summary: 'The sign-in providers the login page offers, and whether password logins are on',
    access: 'public',
    response: signInOptionsSchema,
    handler: async ({ core }) => core.sso.options(),
  }),
  defineRoute({
    method: 'get',
    path: '/sso/providers',
    name: 'listSsoProviders',
    tag: 'auth',
    summary: 'OpenID Connect sign-in providers (their client secrets are never returned)',
    access: 'admin',
    list: {},
    response: listOf(ssoProviderSchema),
    handler: async ({ core, page }) => pageOf(await core.sso.list(), page, (p) => p.name),
  }),
  defineRoute({
    method: 'post',
    path: '/sso/providers',
    name: 'createSsoProvider',
    tag: 'auth',
    summary: 'Add an OpenID Connect sign-in provider',
    access: 'admin',
    status: 201,
    body: createSsoProviderBodySchema,
    response: ssoProviderSchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const p = await core.sso.create(body);
      await core.audit.record(principal, { action: 'sso.create', target: { kind: 'sso', id: p.id }, ip, detail: { name: p.name, issuer: p.issuer } });
      return p;
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/sso/providers/{id}',
    name: 'updateSsoProvider',
    tag: 'auth',
    summary: 'Change a sign-in provider (a client secret given replaces the stored one)',
    access: 'admin',
    params: idParams,
    body: updateSsoProviderBodySchema,
    response: ssoProviderSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const p = await core.sso.update(params.id, body);
      const { clientSecret, ...shown } = body;
      await core.audit.record(principal, {
        action: 'sso.update',
        target: { kind: 'sso', id: p.id },
        ip,
        detail: { ...shown, ...(clientSecret ? { clientSecret: 'replaced' } : {}) },
      });
      return p;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/sso/providers/{id}',
    name: 'deleteSsoProvider',
    tag: 'auth',
    summary: 'Remove a sign-in provider (its users stay, and can no longer sign in through it)',
    access: 'admin',
    params: idParams,
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      await core.sso.remove(params.id);
      await core.audit.record(principal, { action: 'sso.delete', target: { kind: 'sso', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
];
