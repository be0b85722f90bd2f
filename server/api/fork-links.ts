import { setCookie } from 'hono/cookie';
import { z } from 'zod';
import { idParams, idSchema, listOf } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import {
  createdForkLinkSchema,
  createForkLinkBodySchema,
  forkActionSchema,
  forkLinkForkSchema,
  forkLinkSchema,
  openedForkSchema,
  openForkLinkBodySchema,
  revokeForkLinkQuerySchema,
} from '@/lib/contracts/fork-links';
import { forkCookieName, openForkLink } from '@/server/core/fork-links/open';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { readCookie } from '@/server/transport/credentials';
import { defineRoute } from './route';

const forkParams = z.object({ id: idSchema, forkId: idSchema, action: forkActionSchema });
const isHttps = (url: string, proto?: string) => url.startsWith('https:') || proto === 'https';

export const forkLinkRoutes = [
  defineRoute({
    method: 'post',
    path: '/fork-links',
    name: 'createForkLink',
    tag: 'shares',
    summary: 'Make a fork link from a snapshot or "now" of a running machine: each opener gets a private fork (the token is returned once)',
    access: 'operator',
    status: 201,
    body: createForkLinkBodySchema,
    response: createdForkLinkSchema,
    errors: [404, 409],
    handler: async ({ core, principal, body, ip }) => {
      const r = await core.forkLinks.create(principal, body);
      await core.audit.record(principal, {
        action: 'forklink.create',
        target: { kind: 'snapshot', id: r.link.snapshotId },
        ip,
        detail: { linkId: r.link.id, maxForks: r.link.maxForks, lifetimeSeconds: r.link.lifetimeSeconds, expiresAt: r.link.expiresAt, label: r.link.label },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/fork-links',
    name: 'listForkLinks',
    tag: 'shares',
    summary: 'Fork links (never their tokens), newest first',
    access: 'operator',
    list: {},
    response: listOf(forkLinkSchema),
    handler: async ({ core, page }) => pageOf(await core.forkLinks.list(), page, (x) => timeIdKey(x.createdAt, x.id), true),
  }),
  defineRoute({
    method: 'get',
    path: '/fork-links/{id}',
    name: 'getForkLink',
    tag: 'shares',
    summary: 'One fork link',
    access: 'operator',
    params: idParams,
    response: forkLinkSchema,
    handler: async ({ core, params }) => core.forkLinks.get(params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/fork-links/{id}/forks',
    name: 'listForkLinkForks',
    tag: 'shares',
    summary: "The forks made through a link: who opened it (address, browser), when, and each fork's state",
    access: 'operator',
    params: idParams,
    list: {},
    response: listOf(forkLinkForkSchema),
    handler: async ({ core, params, page }) => pageOf(await core.forkLinks.forks(params.id), page, (x) => timeIdKey(x.createdAt, x.id), true),
  }),
  defineRoute({
    method: 'delete',
    path: '/fork-links/{id}',
    name: 'revokeForkLink',
    tag: 'shares',
    summary: 'Revoke a fork link: it opens nothing more, consoles of its forks close, its forks are destroyed (or kept: ?forks=keep)',
    access: 'operator',
    params: idParams,
    query: revokeForkLinkQuerySchema,
    response: forkLinkSchema,
    handler: async ({ core, principal, params, query, ip }) => {
      const r = await core.forkLinks.revoke(params.id, query.forks);
      await core.audit.record(principal, {
        action: 'forklink.revoke',
        target: { kind: 'snapshot', id: r.link.snapshotId },
        ip,
        detail: { linkId: r.link.id, forks: query.forks, destroyed: r.destroyed },
      });
      return r.link;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/fork-links/{id}/forks/{forkId}/{action}',
    name: 'actOnForkLinkFork',
    tag: 'shares',
    summary: "Stop or destroy one of a link's forks, or adopt it into the owner's machines (no lifetime; the opener's console closes)",
    access: 'operator',
    params: forkParams,
    response: z.object({ fork: forkLinkForkSchema, job: jobSchema.nullable() }),
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      const r = await core.forkLinks.act(params.id, params.forkId, params.action);
      await core.audit.record(principal, {
        action: `forklink.${params.action}`,
        target: { kind: 'machine', id: r.fork.machineId },
        ip,
        detail: { linkId: params.id, forkId: params.forkId },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/fork-link/open',
    name: 'openForkLink',
    tag: 'shares',
    summary: 'Open a fork link (no account): a private running fork and a credential for its console; the same browser (its cookie) gets the same fork back',
    access: 'public',
    body: openForkLinkBodySchema,
    response: openedForkSchema,
    errors: [404, 409],
    handler: async ({ c, core, body, ip }) => {
      const meta = { ip, userAgent: c.req.header('user-agent') ?? null };
      // The cookie is the link's own: read by name once the token says which link it is.
      const cookieOf = (linkId: string) => readCookie(c.req.header('cookie') ?? null, forkCookieName(linkId));
      const r = await openForkLink(core.forkLinks, core.auth, body.token, cookieOf, meta).catch(async (err: unknown) => {
        const state = (err as { state?: string }).state;
        if (state === 'failed' || state === 'used_up')
          await core.audit.record(null, { action: 'forklink.refuse', target: { kind: 'fork-link', id: null }, ip, detail: { state, reason: String(err) } });
        throw err;
      });
      if (!r.reopened) {
        await core.audit.record(null, {
          action: 'forklink.open',
          target: { kind: 'machine', id: r.machine.id },
          ip,
          detail: { linkId: r.linkId, forkId: r.forkId, userAgent: meta.userAgent },
        });
      }
      setCookie(c, forkCookieName(r.linkId), r.cookie, {
        httpOnly: true,
        sameSite: 'Lax',
        path: '/api/fork-link/open',
        secure: isHttps(c.req.url, c.req.header('x-forwarded-proto')),
        expires: new Date(r.expiresAt),
      });
      const { linkId: _l, forkId: _f, cookie: _c, ...opened } = r;
      return opened;
    },
  }),
];
