import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { adminToken, client, loginCookie, startServer, tearDown, type RunningServer } from './harness';
import { signInOverHttp, startTestProvider, type TestAccounts, type TestProvider } from './oidc-world';

/**
 * Single sign-on against a real OpenID provider (oidc-provider on 127.0.0.1, started once for
 * this file): first sign-in makes the user with the mapped role, refusals (no role, wrong email
 * domain, a tampered state, no flow), a role changed at the provider, a provider that is down,
 * password logins turned off but for the break-glass admin.
 */
let srv: RunningServer;
let api: ApiClient;
let idp: TestProvider;
let providerId: string;
const accounts: TestAccounts = {
  alice: { email: 'alice@example.com', email_verified: true, groups: ['staff', 'hangar-admins'] },
  bob: { email: 'bob@example.com', email_verified: true, groups: ['staff'] },
  carol: { email: 'carol@elsewhere.org', email_verified: true, groups: ['hangar-ops'] },
};

beforeAll(async () => {
  srv = await startServer();
  api = client(srv.url, await adminToken(srv.url));
  idp = await startTestProvider([`${srv.url}/sso/callback`], accounts);
  const p = await api.sso.create({
    name: 'Test IdP',
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    scopes: 'openid email profile groups',
    roleClaim: 'groups',
    roleMap: { 'hangar-admins': 'admin', 'hangar-ops': 'operator' },
    allowedDomains: ['example.com'],
  });
  providerId = p.id;
}, 60_000);
afterAll(async () => {
  await idp?.close();
  await tearDown(srv, api);
}, 60_000);

const meWith = (cookie: string) => fetch(`${srv.url}/api/auth/me`, { headers: { cookie } });

describe('single sign-on (OpenID Connect)', () => {
  it('the provider is listed for the login page; its secret is never returned', async () => {
    const opts = await (await fetch(`${srv.url}/api/auth/sign-in-options`)).json();
    expect(opts).toEqual({ providers: [{ id: providerId, name: 'Test IdP' }], localLogin: true });
    const listed = await fetch(`${srv.url}/api/sso/providers`, { headers: { cookie: await loginCookie(srv.url), origin: srv.url } });
    const text = await listed.text();
    expect(text).toContain('Test IdP');
    expect(text).not.toContain(idp.clientSecret);
    expect(text).not.toContain('clientSecret');
    // A plain http:// issuer off loopback is refused.
    await expect(
      api.sso.create({ name: 'x', issuer: 'http://idp.example.com', clientId: 'a', clientSecret: 'b', roleMap: { a: 'viewer' } }),
    ).rejects.toMatchObject({
      status: 400,
    });
  });

  it('first sign-in makes the user with the mapped role (the strongest of their groups) and a session', async () => {
    const r = await signInOverHttp(srv.url, providerId, 'alice');
    expect(r).toMatchObject({ landed: '/', error: null });
    const me = await (await meWith(`hangar_session=${r.session}`)).json();
    expect(me).toMatchObject({ user: { username: 'alice' }, role: 'admin', via: 'session' });
    // The same person again: the same user, not a second one.
    const again = await signInOverHttp(srv.url, providerId, 'alice');
    expect(again.landed).toBe('/');
    expect((await api.users.list()).items.filter((u) => u.username.startsWith('alice'))).toHaveLength(1);
  });

  it('refuses a person whose groups map to no role, and an email outside the allowed domains', async () => {
    const bob = await signInOverHttp(srv.url, providerId, 'bob');
    expect(bob.landed).toMatch(/^\/login\?sso_error=/);
    expect(bob.error).toContain('has no role here');
    expect(bob.session).toBeUndefined();
    const carol = await signInOverHttp(srv.url, providerId, 'carol');
    expect(carol.error).toContain('Only verified email addresses of example.com');
    expect((await api.users.list()).items.map((u) => u.username)).not.toContain('bob');
  });

  it('refuses a callback with a wrong state, and one that this browser did not start', async () => {
    const tampered = await signInOverHttp(srv.url, providerId, 'alice', (u) => {
      u.searchParams.set('state', 'not-the-state');
      return u;
    });
    expect(tampered.error).toMatch(/did not check out.*state/i);
    expect(tampered.session).toBeUndefined();
    // A callback (with a real code) replayed by a browser that never started the flow.
    const r = await signInOverHttp(srv.url, providerId, 'alice', (u) => u);
    const stray = await fetch(r.callback!, { redirect: 'manual' });
    expect(decodeURIComponent(stray.headers.get('location') ?? '')).toContain('was not started here');
  });

  it('a role changed at the provider applies at the next sign-in and ends the old sessions', async () => {
    const first = await signInOverHttp(srv.url, providerId, 'alice');
    const old = `hangar_session=${first.session}`;
    expect((await meWith(old)).status).toBe(200);
    accounts.alice.groups = ['hangar-ops'];
    const next = await signInOverHttp(srv.url, providerId, 'alice');
    expect(await (await meWith(`hangar_session=${next.session}`)).json()).toMatchObject({ role: 'operator' });
    expect((await meWith(old)).status).toBe(401);
    accounts.alice.groups = ['hangar-admins'];
  });

  it('a provider that is down: its error on the login page, password logins still work', async () => {
    const down = await api.sso.create({ name: 'Down IdP', issuer: 'http://127.0.0.1:9', clientId: 'a', clientSecret: 'b', roleMap: { a: 'viewer' } });
    const res = await fetch(`${srv.url}/sso/${down.id}/start`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(decodeURIComponent(res.headers.get('location')!)).toMatch(/^\/login\?sso_error=Down IdP cannot be reached/);
    expect(await loginCookie(srv.url)).toMatch(/^hangar_session=/);
    await api.sso.remove(down.id);
  });

  it('password logins turned off: refused but for the break-glass admin; SSO still signs in', async () => {
    await api.users.create({ username: 'local-op', role: 'operator', password: 'local-op-password' });
    await api.settings.update({ localLogin: false });
    try {
      const res = await fetch(`${srv.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url },
        body: JSON.stringify({ username: 'local-op', password: 'local-op-password' }),
      });
      expect(res.status).toBe(403);
      expect((await res.json()).error.message).toContain('Password logins are turned off');
      expect(await loginCookie(srv.url)).toMatch(/^hangar_session=/);
      expect((await (await fetch(`${srv.url}/api/auth/sign-in-options`)).json()).localLogin).toBe(false);
      expect((await signInOverHttp(srv.url, providerId, 'alice')).landed).toBe('/');
    } finally {
      await api.settings.update({ localLogin: true });
    }
  });
});
