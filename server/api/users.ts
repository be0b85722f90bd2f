import {
  changePasswordBodySchema,
  createUserBodySchema,
  resetPasswordBodySchema,
  sessionInfoSchema,
  updateUserBodySchema,
  userSchema,
  userWithPasswordSchema,
} from '@/lib/contracts/auth';
import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import { z } from 'zod';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { defineRoute } from './route';

export const userRoutes = [
  defineRoute({
    method: 'get',
    path: '/users',
    name: 'listUsers',
    tag: 'users',
    summary: 'Every user, by username',
    access: 'admin',
    list: {},
    response: listOf(userSchema),
    handler: async ({ core, page }) => pageOf(await core.users.list(), page, (u) => u.username),
  }),
  defineRoute({
    method: 'post',
    path: '/users',
    name: 'createUser',
    tag: 'users',
    summary: 'Create a user; a generated password is returned once',
    access: 'admin',
    status: 201,
    body: createUserBodySchema,
    response: userWithPasswordSchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const r = await core.users.create(body);
      await core.audit.record(principal, {
        action: 'user.create',
        target: { kind: 'user', id: r.user.id },
        ip,
        detail: { username: r.user.username, role: r.user.role },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/users/{id}',
    name: 'updateUser',
    tag: 'users',
    summary: "Change a user's role, or disable or enable it",
    access: 'admin',
    params: idParams,
    body: updateUserBodySchema,
    response: userSchema,
    errors: [409],
    handler: async ({ core, principal, params, body, ip }) => {
      const user = await core.users.update(principal, params.id, body);
      await core.audit.record(principal, { action: 'user.update', target: { kind: 'user', id: user.id }, ip, detail: { username: user.username, ...body } });
      return user;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/users/{id}',
    name: 'deleteUser',
    tag: 'users',
    summary: 'Delete a user (its machines stay, owned by nobody)',
    access: 'admin',
    params: idParams,
    response: okSchema,
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      await core.users.remove(principal, params.id);
      await core.audit.record(principal, { action: 'user.delete', target: { kind: 'user', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/users/{id}/password',
    name: 'resetUserPassword',
    tag: 'users',
    summary: "Reset a user's password (generated and returned once when not given); their sessions end",
    access: 'admin',
    params: idParams,
    body: resetPasswordBodySchema,
    response: z.object({ password: z.string().optional() }),
    handler: async ({ core, principal, params, body, ip }) => {
      const r = await core.users.resetPassword(params.id, body.password);
      await core.audit.record(principal, { action: 'user.reset_password', target: { kind: 'user', id: params.id }, ip });
      return r;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/auth/password',
    name: 'changeOwnPassword',
    tag: 'auth',
    summary: 'Change your own password; your other sessions end',
    access: 'member',
    body: changePasswordBodySchema,
    response: okSchema,
    handler: async ({ core, principal, body, ip }) => {
      await core.users.changeOwnPassword(principal, body);
      await core.audit.record(principal, { action: 'auth.password_change', target: { kind: 'user', id: principal.user.id }, ip });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/auth/sessions',
    name: 'listSessions',
    tag: 'auth',
    summary: 'Your sessions (browsers logged in as you), last seen first',
    access: 'member',
    list: {},
    response: listOf(sessionInfoSchema),
    handler: async ({ core, principal, page }) => pageOf(await core.users.sessions(principal), page, (x) => timeIdKey(x.lastSeenAt, x.id), true),
  }),
  defineRoute({
    method: 'delete',
    path: '/auth/sessions/{id}',
    name: 'endSession',
    tag: 'auth',
    summary: 'End a session: its browser is logged out and its consoles close',
    access: 'member',
    params: idParams,
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      await core.users.endSession(principal, params.id);
      await core.audit.record(principal, { action: 'auth.session_end', target: { kind: 'session', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
];
