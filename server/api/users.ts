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
import { defineRoute } from './route';

export const userRoutes = [
  defineRoute({
    method: 'get',
    path: '/users',
    tag: 'users',
    summary: 'Every user',
    access: 'admin',
    response: listOf(userSchema),
    handler: async ({ core }) => ({ items: await core.users.list() }),
  }),
  defineRoute({
    method: 'post',
    path: '/users',
    tag: 'users',
    summary: 'Create a user; a generated password is returned once',
    access: 'admin',
    status: 201,
    body: createUserBodySchema,
    response: userWithPasswordSchema,
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
    tag: 'users',
    summary: "Change a user's role, or disable or enable it",
    access: 'admin',
    params: idParams,
    body: updateUserBodySchema,
    response: userSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const user = await core.users.update(principal, params.id, body);
      await core.audit.record(principal, { action: 'user.update', target: { kind: 'user', id: user.id }, ip, detail: { username: user.username, ...body } });
      return user;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/users/{id}',
    tag: 'users',
    summary: 'Delete a user (its machines stay, owned by nobody)',
    access: 'admin',
    params: idParams,
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      await core.users.remove(principal, params.id);
      await core.audit.record(principal, { action: 'user.delete', target: { kind: 'user', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/users/{id}/password',
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
    tag: 'auth',
    summary: 'Your sessions (browsers logged in as you)',
    access: 'member',
    response: listOf(sessionInfoSchema),
    handler: async ({ core, principal }) => ({ items: await core.users.sessions(principal) }),
  }),
  defineRoute({
    method: 'delete',
    path: '/auth/sessions/{id}',
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
