import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { ApiError, createApiClient, type ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { ADMIN_PASSWORD, adminToken, client, connected, type RunningServer, socket, startServer, tearDown, until } from './harness';
import { testTempDir } from './temp-dir';

/**
 * Users, sessions and login hardening on a real server: admin manages users, access ends at
 * once (sockets included) when a user is disabled or a session ended, failed logins lock
 * with a doubling backoff, cookies and headers are set as a browser needs them.
 */
let srv: RunningServer;
let admin: ApiClient;
const sockets: Socket[] = [];

beforeAll(async () => {
  srv = await startServer();
  admin = client(srv.url, await adminToken(srv.url));
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await tearDown(srv, undefined);
});

/** A browser-like login: the session cookie, and the Origin our pages would send. */
async function login(username: string, password: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${srv.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: srv.url, ...headers },
    body: JSON.stringify({ username, password }),
  });
  const cookie = r.headers.get('set-cookie');
  return {
    status: r.status,
    cookie: cookie?.split(';')[0] ?? null,
    setCookie: cookie,
    retryAfter: r.headers.get('retry-after'),
    body: (await r.json()) as { error?: { code: string; message: string } },
  };
}

const asCookie = (cookie: string) =>
  createApiClient({
    baseUrl: srv.url,
    fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie, origin: srv.url } }),
  });

describe('users and sessions', () => {
  it('admin creates a user (a generated password shown once), who logs in with that role only', async () => {
    const made = await admin.users.create({ username: 'vera', role: 'viewer' });
    expect(made.user).toMatchObject({ username: 'vera', role: 'viewer', disabled: false });
    expect(made.password).toMatch(/^.{16,}$/);
    const s = await login('vera', made.password!);
    expect(s.status).toBe(200);
    const vera = asCookie(s.cookie!);
    expect((await vera.auth.me()).role).toBe('viewer');
    await expect(vera.users.list()).rejects.toMatchObject({ status: 403 });
    await expect(vera.machines.create({ name: 'nope', image: 'busybox' })).rejects.toMatchObject({ status: 403 });
    await expect(admin.users.create({ username: 'vera' })).rejects.toMatchObject({ status: 409 });
    await expect(admin.users.create({ username: '../etc', password: 'x' })).rejects.toMatchObject({
      status: 400,
      issues: expect.arrayContaining([expect.objectContaining({ path: 'username' })]),
    });
  });

  it('a disabled user is out at once: requests 401, open sockets closed; enabling lets them log in again', async () => {
    const { user, password } = await admin.users.create({ username: 'otto', role: 'operator' });
    const s = await login('otto', password!);
    const events = socket(srv.url, '/events', { cookie: s.cookie!, origin: srv.url });
    sockets.push(events);
    await connected(events);
    await admin.users.update(user.id, { disabled: true });
    await until(() => !events.connected, 'the socket to be closed', 5000);
    await expect(asCookie(s.cookie!).auth.me()).rejects.toMatchObject({ status: 401 });
    expect((await login('otto', password!)).status).toBe(401);
    await admin.users.update(user.id, { disabled: false });
    expect((await login('otto', password!)).status).toBe(200);
  });

  it('sessions: listed with the current one marked, ended one by one; a password change ends the others', async () => {
    const { user, password } = await admin.users.create({ username: 'sam', role: 'operator', password: 'first-password-1' });
    expect(password).toBeUndefined();
    const a = asCookie((await login('sam', 'first-password-1', { 'user-agent': 'browser-a' })).cookie!);
    const bCookie = (await login('sam', 'first-password-1', { 'user-agent': 'browser-b' })).cookie!;
    const b = asCookie(bCookie);
    const seen = (await a.auth.sessions()).items;
    expect(seen).toHaveLength(2);
    expect(seen.filter((x) => x.current).map((x) => x.userAgent)).toEqual(['browser-a']);
    const other = seen.find((x) => !x.current)!;
    const bSocket = socket(srv.url, '/console', { cookie: bCookie, origin: srv.url });
    sockets.push(bSocket);
    await connected(bSocket);
    await a.auth.endSession(other.id);
    await until(() => !bSocket.connected, 'the ended session socket to close', 5000);
    await expect(b.auth.me()).rejects.toMatchObject({ status: 401 });
    // Somebody else's session: the same answer as none at all.
    const vera = (await admin.users.list()).items.find((u) => u.username === 'vera')!;
    expect(vera).toBeDefined();
    await expect(a.auth.endSession('ses_aaaaaaaaaaaaaaaaaaaa')).rejects.toMatchObject({ status: 404 });

    const c = asCookie((await login('sam', 'first-password-1')).cookie!);
    await expect(a.auth.changePassword({ current: 'wrong', password: 'second-password-2' })).rejects.toMatchObject({ status: 403 });
    await expect(a.auth.changePassword({ current: 'first-password-1', password: 'short' })).rejects.toMatchObject({ status: 400 });
    await a.auth.changePassword({ current: 'first-password-1', password: 'second-password-2' });
    expect((await a.auth.me()).user.username).toBe('sam');
    await expect(c.auth.me()).rejects.toMatchObject({ status: 401 });
    expect((await login('sam', 'second-password-2')).status).toBe(200);
    // An admin reset ends every session; the generated password works.
    const reset = await admin.users.resetPassword(user.id);
    await expect(a.auth.me()).rejects.toMatchObject({ status: 401 });
    expect((await login('sam', reset.password!)).status).toBe(200);
  });

  it('keeps an admin: the last active admin cannot be demoted, disabled or deleted, nor can admins change themselves', async () => {
    const me = await admin.auth.me();
    await expect(admin.users.update(me.user.id, { role: 'viewer' })).rejects.toMatchObject({ status: 409 });
    await expect(admin.users.remove(me.user.id)).rejects.toMatchObject({ status: 409 });
    const { user } = await admin.users.create({ username: 'ada', role: 'admin', password: 'ada-password-1' });
    const ada = asCookie((await login('ada', 'ada-password-1')).cookie!);
    await ada.users.update(me.user.id, { role: 'operator' });
    // Now ada is the last admin.
    await expect(ada.users.remove(user.id)).rejects.toMatchObject({ status: 409 });
    await expect(admin.users.list()).rejects.toMatchObject({ status: 403 });
    await ada.users.update(me.user.id, { role: 'admin' });
    await admin.users.remove(user.id);
    expect((await admin.users.list()).items.map((u) => u.username)).not.toContain('ada');
    await expect(ada.auth.me()).rejects.toMatchObject({ status: 401 });
  });
});

describe('login hardening and headers', () => {
  it('locks a username after five failures with a doubling wait (429 and Retry-After), then lets the right password in', async () => {
    await admin.users.create({ username: 'lou', role: 'viewer', password: 'lou-password-1' });
    for (let i = 0; i < 5; i++) expect((await login('lou', `wrong-${i}`)).status).toBe(401);
    const sixth = await login('lou', 'wrong-5');
    expect(sixth.status).toBe(401);
    const locked = await login('lou', 'lou-password-1');
    expect(locked).toMatchObject({ status: 429, retryAfter: '1', body: { error: { code: 'rate_limited' } } });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await login('lou', 'wrong-6')).status).toBe(401);
    expect((await login('lou', 'lou-password-1')).retryAfter).toBe('2');
    await new Promise((r) => setTimeout(r, 2100));
    expect((await login('lou', 'lou-password-1')).status).toBe(200);
    const audit = (await admin.audit.list({ action: 'auth.login_locked' })).items;
    expect(audit.length).toBeGreaterThanOrEqual(2);
    expect(audit[0].detail).toMatchObject({ username: 'lou' });
  });

  it('sets the session cookie httpOnly and SameSite, Secure behind an HTTPS proxy; sends the security headers', async () => {
    const plain = await login('admin', ADMIN_PASSWORD);
    expect(plain.setCookie).toMatch(/HttpOnly/i);
    expect(plain.setCookie).toMatch(/SameSite=Lax/i);
    expect(plain.setCookie).not.toMatch(/Secure/i);
    expect((await login('admin', ADMIN_PASSWORD, { 'x-forwarded-proto': 'https' })).setCookie).toMatch(/; Secure/i);
    const r = await fetch(`${srv.url}/api/health`);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
    // No JS eval and no wildcard; 'wasm-unsafe-eval' only lets WebAssembly compile (the recording player).
    expect(csp).not.toMatch(/'unsafe-eval'|\*/);
    expect(csp).toContain("'wasm-unsafe-eval'");
    // A cookie-authenticated change from another site is refused (CSRF).
    const cross = await fetch(`${srv.url}/api/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: plain.cookie!, origin: 'https://evil.example' },
      body: JSON.stringify({ username: 'mallory' }),
    });
    expect(cross.status).toBe(403);
  });
});

describe('audit log', () => {
  it('filters by action prefix, actor and target, pages with a cursor, and exports JSON lines', async () => {
    const users = (await admin.audit.list({ action: 'user.' })).items;
    expect(users.map((e) => e.action)).toEqual(expect.arrayContaining(['user.create', 'user.update', 'user.delete', 'user.reset_password']));
    expect(users.every((e) => e.action.startsWith('user.'))).toBe(true);
    // Who, and through what: the admin's API token (its id in the detail), or ada's browser session.
    expect(users.filter((e) => e.actorKind === 'token').every((e) => e.actorName === 'admin' && typeof e.detail.tokenId === 'string')).toBe(true);
    expect(users.some((e) => e.actorKind === 'user' && e.actorName === 'ada' && e.ip)).toBe(true);
    const sam = (await admin.users.list()).items.find((u) => u.username === 'sam')!;
    const aboutSam = (await admin.audit.list({ target: sam.id })).items;
    expect(aboutSam.map((e) => e.action)).toContain('auth.password_change');
    expect((await admin.audit.list({ actor: 'sam' })).items.every((e) => e.actorName === 'sam')).toBe(true);
    const page1 = await admin.audit.list({ limit: 3 });
    expect(page1.items).toHaveLength(3);
    const page2 = await admin.audit.list({ limit: 3, cursor: page1.next! });
    expect(page2.items[0].ts).toBeLessThanOrEqual(page1.items[2].ts);
    expect(page2.items.map((e) => e.id)).not.toContain(page1.items[2].id);
    const r = await fetch(admin.audit.exportUrl({ action: 'user.' }), { headers: { authorization: `Bearer ${await adminToken(srv.url)}` } });
    expect(r.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="hangar-audit-/);
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string });
    expect(lines.length).toBe(users.length);
    await expect(admin.audit.list({ action: 'DROP TABLE' })).rejects.toBeInstanceOf(ApiError);
  });

  it('hangar users, passwd and audit from the CLI', async () => {
    const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-users-'), HANGAR_URL: srv.url, HANGAR_TOKEN: await adminToken(srv.url) };
    const cli = (args: string[], input?: string) => run([process.execPath, 'dist/cli.js', ...args], { env, input, timeoutMs: 30_000 });
    const add = await cli(['users', 'add', 'clio', '--role', 'operator']);
    expect(add.code, add.stderr).toBe(0);
    const pw = /Password \(shown once\): (\S+)/.exec(add.stdout)![1];
    expect((await login('clio', pw)).status).toBe(200);
    expect((await cli(['users', 'role', 'clio', 'viewer'])).stdout).toContain('clio is now viewer.');
    expect(await cli(['users', 'role', 'clio', 'root'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--role: one of member, viewer, operator, admin'),
    });
    expect((await cli(['users'])).stdout).toMatch(/^clio\s+viewer/m);
    const jsonl = await cli(['audit', '--action', 'user.', '-n', '2', '--jsonl']);
    expect(
      jsonl.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { action: string }).action),
    ).toEqual(['user.update', 'user.create']);
    // Your own password, from stdin: clio changes hers with a token of her own.
    const clioTok = (await asCookie((await login('clio', pw)).cookie!).tokens.create({ name: 'cli' })).secret;
    const mine = await run([process.execPath, 'dist/cli.js', 'passwd'], {
      env: { ...env, HANGAR_TOKEN: clioTok },
      input: `${pw}\nclio-new-password\n`,
      timeoutMs: 30_000,
    });
    expect(mine.code, mine.stderr).toBe(0);
    expect((await login('clio', 'clio-new-password')).status).toBe(200);
    expect((await cli(['users', 'rm', 'clio'])).code).toBe(0);
    expect(await cli(['users', 'rm', 'clio'])).toMatchObject({ code: 1, stderr: expect.stringContaining('No user clio') });
  });
});
