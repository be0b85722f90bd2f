import { OpenAPIHono } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { User } from '@/lib/contracts/auth';
import type { Role } from '@/lib/roles';
import type { Core } from '@/server/core/hangar';
import type { Principal } from '@/server/core/auth';
import { ConflictError, NotFoundError } from '@/server/core/errors';
import { listOf } from '@/lib/contracts/common';
import { pageOf } from '@/server/core/paging';
import { defineRoute, envelope, errorToResponse, register, zodIssues, type App, type AppEnv, type RouteEntry } from './route';

const user = (role: Role): User => ({ id: 'usr_aaaaaaaaaaaaaaaaaaaa', username: role, role, disabled: false, createdAt: 0 });

/** A core whose auth knows three bearer tokens, one per role; sessions come from the cookie. */
const fakeCore = {
  auth: {
    async authenticate(c: { session: string | null; bearer: string | null }): Promise<Principal | null> {
      if (c.bearer && ['viewer', 'operator', 'admin'].includes(c.bearer)) return { user: user(c.bearer as Role), role: c.bearer as Role, via: 'token' };
      if (c.session === 'good') return { user: user('admin'), role: 'admin', via: 'session' };
      return null;
    },
  },
} as unknown as Core;

function app() {
  const a = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(envelope('validation_failed', 'Invalid input.', zodIssues(result.error)), 400);
    },
  }) as unknown as App;
  const table: RouteEntry[] = [];
  a.use('*', async (c, next) => {
    c.set('core', fakeCore);
    await next();
  });
  const routes = [
    defineRoute({
      method: 'get',
      path: '/open',
      name: 'open',
      tag: 't',
      summary: 's',
      access: 'public',
      response: z.object({ ok: z.boolean() }),
      handler: async () => ({ ok: true }),
    }),
    defineRoute({
      method: 'post',
      path: '/things/{id}',
      name: 'postThing',
      tag: 't',
      summary: 's',
      access: 'operator',
      params: z.object({ id: z.string().regex(/^[a-z]+$/) }),
      body: z.object({ n: z.number().int().max(10) }),
      response: z.object({ id: z.string(), n: z.number() }),
      handler: async ({ params, body }) => {
        if (params.id === 'missing') throw new NotFoundError('Thing');
        if (params.id === 'busy') throw new ConflictError('Thing is busy.');
        if (params.id === 'boom') throw new Error('secret internals');
        return { id: params.id, n: body.n };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/letters',
      name: 'listLetters',
      tag: 't',
      summary: 's',
      access: 'viewer',
      list: {},
      response: listOf(z.object({ id: z.string(), pad: z.string() })),
      handler: async ({ page }) =>
        pageOf(
          'abcdefgh'.split('').map((id) => ({ id, pad: 'x'.repeat(300) })),
          page,
          (x) => x.id,
        ),
    }),
  ];
  for (const r of routes) register(a, table, r);
  a.onError((err, c) => {
    const { status, body } = errorToResponse(err);
    return c.json(body, status as 400);
  });
  return { a, table };
}

const post = (a: App, path: string, body: unknown, headers: Record<string, string>) =>
  a.request(path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', host: 'h', ...headers },
  });

describe('route helper', () => {
  it('records every route with its access rule', () => {
    expect(app().table).toEqual([
      { method: 'get', path: '/open', access: 'public' },
      { method: 'post', path: '/things/{id}', access: 'operator' },
      { method: 'get', path: '/letters', access: 'viewer' },
    ]);
  });

  it('lets anyone call a public route', async () => {
    expect(await (await app().a.request('/open')).json()).toEqual({ ok: true });
  });

  it('answers 401, then 403 for a weaker role, with the envelope', async () => {
    const { a } = app();
    const anon = await post(a, '/things/abc', { n: 1 }, {});
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const viewer = await post(a, '/things/abc', { n: 1 }, { authorization: 'Bearer viewer' });
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringMatching(/operator/) } });
  });

  it('authenticates before it validates (no schema hints to strangers)', async () => {
    const res = await post(a0(), '/things/ABC', { n: 'x' }, {});
    expect(res.status).toBe(401);
  });

  it('validates params and body and lists the fields', async () => {
    const res = await post(a0(), '/things/abc', { n: 99 }, { authorization: 'Bearer operator' });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.issues).toEqual([{ path: 'n', message: expect.any(String) }]);
    const bad = await post(a0(), '/things/ABC', { n: 1 }, { authorization: 'Bearer operator' });
    expect((await bad.json()).error.issues[0].path).toBe('id');
  });

  it('maps domain errors and hides unexpected ones', async () => {
    const h = { authorization: 'Bearer admin' };
    expect((await post(a0(), '/things/missing', { n: 1 }, h)).status).toBe(404);
    expect((await post(a0(), '/things/busy', { n: 1 }, h)).status).toBe(409);
    const boom = await post(a0(), '/things/boom', { n: 1 }, h);
    expect(boom.status).toBe(500);
    expect(JSON.stringify(await boom.json())).not.toContain('secret internals');
  });

  it('refuses cookie-authenticated changes from another origin, and allows our own', async () => {
    const cookie = { cookie: 'hangar_session=good' };
    expect((await post(a0(), '/things/abc', { n: 1 }, cookie)).status).toBe(403);
    expect((await post(a0(), '/things/abc', { n: 1 }, { ...cookie, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(a0(), '/things/abc', { n: 1 }, { ...cookie, origin: 'http://h' })).status).toBe(200);
    expect((await post(a0(), '/things/abc', { n: 1 }, { ...cookie, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });
});

function a0() {
  return app().a;
}

describe('lists, ETags and compression', () => {
  const get = (path: string, headers: Record<string, string> = {}) => a0().request(path, { headers: { authorization: 'Bearer viewer', ...headers } });

  it('pages with limit and an opaque cursor, and refuses a cursor it did not make', async () => {
    const p1 = await (await get('/letters?limit=3')).json();
    expect(p1.items.map((x: { id: string }) => x.id)).toEqual(['a', 'b', 'c']);
    const p2 = await (await get(`/letters?limit=3&cursor=${p1.next}`)).json();
    expect(p2.items.map((x: { id: string }) => x.id)).toEqual(['d', 'e', 'f']);
    expect((await (await get('/letters')).json()).items).toHaveLength(8);
    expect((await get('/letters?limit=0')).status).toBe(400);
    expect((await get('/letters?cursor=AAAA%3D')).status).toBe(400);
  });

  it('answers 304 to If-None-Match with the ETag, and compresses bodies over 1 KB when asked', async () => {
    const first = await get('/letters');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\//);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const again = await get('/letters', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const gz = await get('/letters', { 'accept-encoding': 'gzip' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('vary')).toBe('Accept-Encoding');
    expect((await get('/open', { 'accept-encoding': 'gzip' })).headers.get('content-encoding')).toBeNull();
  });
});

describe('errorToResponse', () => {
  it('turns zod errors into validation envelopes', () => {
    const r = z.object({ a: z.string() }).safeParse({ a: 1 });
    expect(errorToResponse(r.error)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', issues: [{ path: 'a' }] } } });
  });
});
