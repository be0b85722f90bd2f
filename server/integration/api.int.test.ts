import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@/db/client';
import { AuthService } from '@/server/core/auth';
import { ADMIN_PASSWORD, adminToken, client, loginCookie, type RunningServer, startServer, tearDown } from './harness';

let srv: RunningServer;
let url: string;

beforeAll(async () => {
  srv = await startServer();
  url = srv.url;
});
afterAll(async () => {
  await tearDown(srv, undefined);
});

const req = (p: string, init: RequestInit & { headers?: Record<string, string> } = {}) => fetch(`${url}${p}`, init);
async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  return body;
}

describe('public endpoints', () => {
  it('answers /api/health and serves the OpenAPI document listing every route', async () => {
    expect(await (await req('/api/health')).json()).toMatchObject({ ok: true, db: 'sqlite' });
    const doc = await (await req('/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/health', '/api/auth/login', '/api/jobs/{id}', '/api/jobs/demo', '/api/machines', '/api/host', '/api/settings', '/api/tokens/{id}']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});

describe('login', () => {
  it('refuses a wrong password without saying which part was wrong', async () => {
    for (const username of ['admin', 'nobody']) {
      const res = await req('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: JSON.stringify({ username, password: 'nope' }),
      });
      const body = await expectEnvelope(res, 401, 'unauthorized');
      expect(body.error.message).toBe('Wrong username or password.');
    }
  });

  it('sets an httpOnly SameSite session cookie that works until logout', async () => {
    const res = await req('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/hangar_session=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = setCookie.split(';')[0];
    expect(await (await req('/api/auth/me', { headers: { cookie } })).json()).toMatchObject({ user: { username: 'admin' }, role: 'admin', via: 'session' });
    expect((await req('/api/auth/logout', { method: 'POST', headers: { cookie, origin: url } })).status).toBe(200);
    await expectEnvelope(await req('/api/auth/me', { headers: { cookie } }), 401, 'unauthorized');
  });

  it('refuses an expired session', async () => {
    const cookie = await loginCookie(url);
    const db = new Database(path.join(srv.dataDir, 'hangar.db'));
    db.prepare('UPDATE sessions SET expires_at = ?').run(Date.now() - 1000);
    db.close();
    await expectEnvelope(await req('/api/auth/me', { headers: { cookie } }), 401, 'unauthorized');
  });

  it('refuses cookie-authenticated changes from another site', async () => {
    const cookie = await loginCookie(url);
    const body = JSON.stringify({ seconds: 1 });
    const h = { 'content-type': 'application/json', cookie };
    await expectEnvelope(await req('/api/jobs/demo', { method: 'POST', headers: h, body }), 403, 'forbidden');
    await expectEnvelope(await req('/api/jobs/demo', { method: 'POST', headers: { ...h, origin: 'http://evil.example' }, body }), 403, 'forbidden');
    expect((await req('/api/jobs/demo', { method: 'POST', headers: { ...h, origin: url }, body })).status).toBe(202);
  });
});

describe('API tokens', () => {
  it('authenticate the CLI, never exceed their role, and stop working when revoked', async () => {
    const token = await adminToken(url);
    const api = client(url, token);
    expect((await api.auth.me()).via).toBe('token');
    const viewer = client(url, await adminToken(url, 'viewer'));
    expect((await viewer.auth.me()).role).toBe('viewer');
    await expect(viewer.tokens.create({ name: 'escalate', role: 'admin' })).rejects.toMatchObject({ status: 403 });
    const listed = await api.tokens.list();
    expect(listed.items.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(listed)).not.toContain(token);
    const mine = listed.items.find((t) => t.role === 'admin')!;
    await api.tokens.revoke(mine.id);
    await expect(api.auth.me()).rejects.toMatchObject({ status: 401 });
  });
});

describe('bad input gets the right status and envelope, and the server keeps serving', () => {
  let token: string;
  beforeAll(async () => {
    token = await adminToken(url);
  });
  const authed = (p: string, init: RequestInit = {}) =>
    req(p, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

  it('malformed JSON', async () => {
    await expectEnvelope(await authed('/api/jobs/demo', { method: 'POST', body: '{"seconds": 1' }), 400, 'bad_request');
  });
  it('wrong types, with the field named', async () => {
    const body = await expectEnvelope(
      await authed('/api/jobs/demo', { method: 'POST', body: JSON.stringify({ seconds: 'ten', steps: 1.5 }) }),
      400,
      'validation_failed',
    );
    expect(body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['seconds', 'steps']);
  });
  it('bad ids in the path', async () => {
    const body = await expectEnvelope(await authed('/api/jobs/..%2F..%2Fetc%2Fpasswd'), 400, 'validation_failed');
    expect(body.error.issues[0].path).toBe('id');
    await expectEnvelope(await authed('/api/jobs/job_zzzzzzzzzzzzzzzzzzzz'), 404, 'not_found');
  });
  it('an oversized body: the 413 comes once it is read, and the connection stays usable', async () => {
    const res = await authed('/api/jobs/demo', { method: 'POST', body: JSON.stringify({ seconds: 1, pad: 'x'.repeat(2 * 1024 * 1024) }) });
    expect(res.headers.get('connection')).not.toBe('close');
    await expectEnvelope(res, 413, 'payload_too_large');
  });
  it('an unknown route', async () => {
    await expectEnvelope(await authed('/api/no/such/route'), 404, 'not_found');
  });
  it('no credentials at all', async () => {
    await expectEnvelope(await req('/api/jobs'), 401, 'unauthorized');
    await expectEnvelope(await req('/api/jobs', { headers: { authorization: 'Bearer hgr_forged' } }), 401, 'unauthorized');
  });
  it('a viewer calling a mutating route', async () => {
    const viewer = await adminToken(url, 'viewer');
    const h = { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' };
    await expectEnvelope(await req('/api/jobs/demo', { method: 'POST', headers: h, body: '{}' }), 403, 'forbidden');
    await expectEnvelope(await req('/api/settings', { method: 'PATCH', headers: h, body: JSON.stringify({ consoleHostShell: true }) }), 403, 'forbidden');
    expect((await req('/api/jobs', { headers: h })).status).toBe(200);
  });
  it('still serves after all that', async () => {
    expect((await req('/api/health')).status).toBe(200);
    expect(srv.proc.exitCode).toBeNull();
  });
});

describe('visibility', () => {
  it("answers 404, not 403, for another user's job", async () => {
    // A second user, added straight to the server's database (user management is its own issue).
    const store = openDatabase({ sqlitePath: path.join(srv.dataDir, 'hangar.db'), migrationsDir: path.resolve('db/migrations') });
    await new AuthService(store).createUser('ops', 'ops-password-123', 'operator');
    await store.close();
    const admin = client(url, await adminToken(url));
    const job = await admin.jobs.demo({ seconds: 0.2, steps: 1 });
    const cookie = await loginCookie(url, 'ops', 'ops-password-123');
    await expectEnvelope(await req(`/api/jobs/${job.id}`, { headers: { cookie } }), 404, 'not_found');
    await expectEnvelope(await req(`/api/jobs/${job.id}/cancel`, { method: 'POST', headers: { cookie, origin: url } }), 404, 'not_found');
    const list = await (await req('/api/jobs', { headers: { cookie } })).json();
    expect(list.items.find((j: { id: string }) => j.id === job.id)).toBeUndefined();
    expect((await admin.jobs.get(job.id)).id).toBe(job.id);
  });
});

describe('settings and host', () => {
  it('lets an admin change settings, validated', async () => {
    const api = client(url, await adminToken(url));
    expect((await api.settings.get()).consoleHostShell).toBe(false);
    expect((await api.settings.update({ consoleHostShell: true })).consoleHostShell).toBe(true);
    expect((await api.settings.update({ consoleHostShell: false })).consoleHostShell).toBe(false);
    await expect(api.settings.update({ consoleScrollbackKib: 1 })).rejects.toMatchObject({ status: 400 });
  });
  it('reports host capabilities with reasons', async () => {
    const host = await client(url, await adminToken(url)).host.get();
    const names = host.capabilities.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['qemu', 'kvm', 'tcg', 'nspawn', 'podman', 'criu', 'overlayfs', 'reflink']));
    for (const c of host.capabilities) expect(c.reason.length).toBeGreaterThan(3);
  }, 60_000);
});
