import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import {
  createJoinTokenBodySchema,
  joinBodySchema,
  joinedSchema,
  joinTokenSchema,
  nodeNameParams,
  nodeSchema,
  openJoinTokenSchema,
  pingQuerySchema,
  pongSchema,
} from '@/lib/contracts/nodes';
import { NodeAdmin } from '@/server/core/cluster/admin';
import { nodeViews, openJoinTokens } from '@/server/core/cluster/node-views';
import { ConflictError } from '@/server/core/errors';
import type { Core } from '@/server/core/hangar';
import { padKey, pageOf } from '@/server/core/paging';
import { defineRoute } from './route';

const admin = (core: Core) => new NodeAdmin(core.store, core.cluster, core.bus);

function joinService(core: Core) {
  if (!core.cluster.join) throw new ConflictError('Clusters need PostgreSQL: start every node with the same DATABASE_URL.');
  return core.cluster.join;
}

const drainRoute = (draining: boolean) =>
  defineRoute({
    method: 'post',
    path: `/nodes/{name}/${draining ? 'drain' : 'undrain'}`,
    name: draining ? 'drainNode' : 'undrainNode',
    tag: 'nodes',
    summary: draining ? 'Drain a node: it takes no new machines' : 'Undrain a node: it takes new machines again',
    access: 'admin',
    params: nodeNameParams,
    response: nodeSchema,
    handler: async ({ core, principal, params, ip }) => {
      const node = await admin(core).setDraining(params.name, draining);
      await core.audit.record(principal, { action: draining ? 'node.drain' : 'node.undrain', target: { kind: 'node', id: node.id }, ip });
      return node;
    },
  });

export const nodeRoutes = [
  defineRoute({
    method: 'get',
    path: '/nodes',
    name: 'listNodes',
    tag: 'nodes',
    summary: 'The nodes of the cluster in the order they joined, with their use; on one node (SQLite), this host',
    access: 'admin',
    list: {},
    response: listOf(nodeSchema),
    handler: async ({ c, core, page }) => pageOf(await nodeViews(core, new URL(c.req.url).origin), page, (n) => `${padKey(n.joinedAt)}:${n.id}`),
  }),
  defineRoute({
    method: 'get',
    path: '/nodes/join-tokens',
    name: 'listJoinTokens',
    tag: 'nodes',
    summary: 'Join tokens not used yet and not expired, newest first (never the secrets; none on one node)',
    access: 'admin',
    list: {},
    response: listOf(openJoinTokenSchema),
    handler: async ({ core, page }) => pageOf(await openJoinTokens(core), page, (t) => `${padKey(t.createdAt)}:${t.id}`, true),
  }),
  defineRoute({
    method: 'post',
    path: '/nodes/join-tokens',
    name: 'createJoinToken',
    tag: 'nodes',
    summary: 'Make a single-use join token for a new node; the token is returned once',
    access: 'admin',
    status: 201,
    body: createJoinTokenBodySchema,
    response: joinTokenSchema,
    errors: [409],
    handler: async ({ c, core, principal, body, ip }) => {
      const made = await joinService(core).createToken(principal.user.id, body.ttlSeconds, new URL(c.req.url).origin);
      await core.audit.record(principal, { action: 'node.token.create', target: { kind: 'join-token', id: made.id }, ip });
      return made;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/nodes/join-tokens/{id}',
    name: 'revokeJoinToken',
    tag: 'nodes',
    summary: 'Revoke a join token',
    access: 'admin',
    params: idParams,
    response: okSchema,
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      await joinService(core).revokeToken(params.id);
      await core.audit.record(principal, { action: 'node.token.revoke', target: { kind: 'join-token', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
  drainRoute(true),
  drainRoute(false),
  defineRoute({
    method: 'delete',
    path: '/nodes/{name}',
    name: 'removeNode',
    tag: 'nodes',
    summary: 'Remove a stopped node from the cluster (refused while it is online or owns machines)',
    access: 'admin',
    params: nodeNameParams,
    response: okSchema,
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      await admin(core).remove(params.name);
      await core.audit.record(principal, { action: 'node.remove', target: { kind: 'node', id: params.name }, ip });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/cluster/join',
    name: 'joinCluster',
    tag: 'nodes',
    summary: 'A new node joins the cluster (the join token in the body is its credential; throttled per address)',
    access: 'public',
    body: joinBodySchema,
    response: joinedSchema,
    errors: [409, 429],
    handler: async ({ core, body, ip }) => {
      const joined = await joinService(core).join(body, ip);
      await core.audit.record(null, { action: 'node.join', target: { kind: 'node', id: joined.nodeId }, ip, detail: { name: joined.name } });
      return joined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/internal/ping',
    name: 'pingNode',
    tag: 'nodes',
    summary: "Another node checks this one answers at its internal URL with its key (nodes only: a user's credentials get 401)",
    access: 'node',
    query: pingQuerySchema,
    response: pongSchema,
    handler: async ({ core, query }) => core.cluster.pong(query.challenge),
  }),
];
