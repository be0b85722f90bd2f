import { z } from 'zod';
import {
  apiTokenSchema,
  cliLoginCodeSchema,
  createdTokenSchema,
  meSchema,
  sessionInfoSchema,
  userSchema,
  userWithPasswordSchema,
  type ChangePasswordBody,
  type CreateTokenBody,
  type CreateUserBody,
  type LoginBody,
  type UpdateUserBody,
} from '@/lib/contracts/auth';
import { auditPageSchema, type AuditQuery } from '@/lib/contracts/audit';
import { grantSchema, machineAccessSchema, type PutGrantBody } from '@/lib/contracts/grants';
import { listOf, okSchema, type PageQuery } from '@/lib/contracts/common';
import { prefsSchema, type Prefs } from '@/lib/contracts/prefs';
import { userLimitsSchema, type PutLimitsBody } from '@/lib/contracts/limits';
import { signInOptionsSchema, ssoProviderSchema, type CreateSsoProviderBody, type UpdateSsoProviderBody } from '@/lib/contracts/sso';
import type { Transport } from './transport';

/** Signing in, people, tokens, single sign-on, limits, grants on machines and the audit log. */
export function accessApi({ call, q, baseUrl }: Transport) {
  return {
    auth: {
      login: (b: LoginBody) => call('POST', '/auth/login', meSchema, b),
      logout: () => call('POST', '/auth/logout', okSchema),
      prefs: () => call('GET', '/auth/prefs', prefsSchema),
      setPrefs: (b: Prefs) => call('PUT', '/auth/prefs', prefsSchema, b),
      me: () => call('GET', '/auth/me', meSchema),
      changePassword: (b: ChangePasswordBody) => call('POST', '/auth/password', okSchema, b),
      sessions: (p: PageQuery = {}) => call('GET', `/auth/sessions${q({ ...p })}`, listOf(sessionInfoSchema)),
      endSession: (id: string) => call('DELETE', `/auth/sessions/${encodeURIComponent(id)}`, okSchema),
      /** The signed-in browser's yes to a CLI (`hangar login --browser`): a one-time code. */
      approveCliLogin: (b: { challenge: string; name: string }) => call('POST', '/auth/cli-login', cliLoginCodeSchema, b),
      /** The CLI's trade of that code and its verifier for an API token. */
      redeemCliLogin: (b: { code: string; verifier: string }) => call('POST', '/auth/cli-token', createdTokenSchema, b),
    },
    users: {
      list: (p: PageQuery = {}) => call('GET', `/users${q({ ...p })}`, listOf(userSchema)),
      create: (b: CreateUserBody) => call('POST', '/users', userWithPasswordSchema, b),
      update: (id: string, b: UpdateUserBody) => call('PATCH', `/users/${encodeURIComponent(id)}`, userSchema, b),
      remove: (id: string) => call('DELETE', `/users/${encodeURIComponent(id)}`, okSchema),
      resetPassword: (id: string, password?: string) =>
        call('POST', `/users/${encodeURIComponent(id)}/password`, z.object({ password: z.string().optional() }), password ? { password } : {}),
    },
    sso: {
      options: () => call('GET', '/auth/sign-in-options', signInOptionsSchema),
      list: (p: PageQuery = {}) => call('GET', `/sso/providers${q({ ...p })}`, listOf(ssoProviderSchema)),
      create: (b: Partial<CreateSsoProviderBody> & Pick<CreateSsoProviderBody, 'name' | 'issuer' | 'clientId' | 'clientSecret' | 'roleMap'>) =>
        call('POST', '/sso/providers', ssoProviderSchema, b),
      update: (id: string, b: UpdateSsoProviderBody) => call('PATCH', `/sso/providers/${encodeURIComponent(id)}`, ssoProviderSchema, b),
      remove: (id: string) => call('DELETE', `/sso/providers/${encodeURIComponent(id)}`, okSchema),
    },
    limits: {
      /** What the caller may hold and holds now. */
      mine: () => call('GET', '/auth/limits', userLimitsSchema),
      list: (p: PageQuery = {}) => call('GET', `/users/limits${q({ ...p })}`, listOf(userLimitsSchema)),
      put: (userId: string, b: PutLimitsBody) => call('PUT', `/users/${encodeURIComponent(userId)}/limits`, userLimitsSchema, b),
    },
    tokens: {
      list: (p: PageQuery = {}) => call('GET', `/tokens${q({ ...p })}`, listOf(apiTokenSchema)),
      create: (b: CreateTokenBody) => call('POST', '/tokens', createdTokenSchema, b),
      revoke: (id: string) => call('DELETE', `/tokens/${encodeURIComponent(id)}`, okSchema),
    },
    grants: {
      mine: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/access`, machineAccessSchema),
      list: (ref: string, p: PageQuery = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/grants${q({ ...p })}`, listOf(grantSchema)),
      put: (ref: string, b: PutGrantBody) => call('POST', `/machines/${encodeURIComponent(ref)}/grants`, grantSchema, b),
      remove: (ref: string, userId: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}/grants/${encodeURIComponent(userId)}`, okSchema),
    },
    audit: {
      list: (p: AuditQuery = {}) => call('GET', `/audit${q(p)}`, auditPageSchema),
      exportUrl: (p: Omit<AuditQuery, 'cursor' | 'limit'> = {}) => `${baseUrl}/api/audit/export${q(p)}`,
    },
  };
}
