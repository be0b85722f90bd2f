import { setCookie, deleteCookie } from 'hono/cookie';
import type { Context } from 'hono';
import { loginBodySchema, meSchema } from '@/lib/contracts/auth';
import { okSchema } from '@/lib/contracts/common';
import { SESSION_COOKIE, type Principal } from '@/server/core/auth';
import { RateLimitedError } from '@/server/core/errors';
import { defineRoute, type AppEnv } from './route';
import { prefsSchema } from '@/lib/contracts/prefs';
import { getUserPrefs, setUserPrefs } from '@/db/repo/users';
import { ForbiddenError } from '@/server/core/errors';

/** Secure when the request came over HTTPS, directly or through a proxy that says so. */
function isHttps(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

const me = (p: Principal) => ({ user: p.user, role: p.role, via: p.via });

export const authRoutes = [
  defineRoute({
    method: 'post',
    path: '/auth/login',
    name: 'login',
    tag: 'auth',
    summary: 'Log in with username and password; sets the session cookie',
    access: 'public',
    body: loginBodySchema,
    response: meSchema,
    errors: [401, 429],
    handler: async ({ c, core, body, ip }) => {
      const meta = { ip, userAgent: c.req.header('user-agent')?.slice(0, 256) ?? null };
      core.sso.checkLocalLogin(body.username);
      try {
        const { secret, user, expiresAt } = await core.auth.login(body.username, body.password, meta);
        setCookie(c, SESSION_COOKIE, secret, { httpOnly: true, sameSite: 'Lax', path: '/', secure: isHttps(c), expires: new Date(expiresAt) });
        await core.audit.record({ user, role: user.role, via: 'session' }, { action: 'auth.login', ip });
        return { user, role: user.role, via: 'session' as const };
      } catch (err) {
        await core.audit.record(null, {
          action: err instanceof RateLimitedError ? 'auth.login_locked' : 'auth.login_failed',
          ip,
          detail: { username: body.username.slice(0, 64) },
        });
        throw err;
      }
    },
  }),
  defineRoute({
    method: 'post',
    path: '/auth/logout',
    name: 'logout',
    tag: 'auth',
    summary: 'End this session',
    access: 'member',
    response: okSchema,
    handler: async ({ c, core, principal, ip }) => {
      await core.auth.logout(principal);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      await core.audit.record(principal, { action: 'auth.logout', ip });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/auth/me',
    name: 'getMe',
    tag: 'auth',
    summary: 'The caller and its effective role',
    access: 'member',
    response: meSchema,
    handler: async ({ principal }) => me(principal),
  }),
  defineRoute({
    method: 'get',
    path: '/auth/prefs',
    name: 'getPrefs',
    tag: 'auth',
    summary: 'Your UI preferences (the console workspace layout)',
    access: 'member',
    response: prefsSchema,
    handler: async ({ core, principal }) => {
      const parsed = prefsSchema.safeParse(JSON.parse(await getUserPrefs(core.store, principal.user.id)));
      return parsed.success ? parsed.data : {};
    },
  }),
  defineRoute({
    method: 'put',
    path: '/auth/prefs',
    name: 'setPrefs',
    tag: 'auth',
    summary: 'Replace your UI preferences',
    access: 'member',
    body: prefsSchema,
    response: prefsSchema,
    handler: async ({ core, principal, body }) => {
      if (principal.share) throw new ForbiddenError('A share link has no preferences.');
      await setUserPrefs(core.store, principal.user.id, JSON.stringify(body));
      return body;
    },
  }),
];
