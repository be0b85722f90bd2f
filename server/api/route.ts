import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { z } from 'zod';
import { ID_PATTERN, NAME_PATTERN } from '@/lib/contracts/common';
import { hasRole } from '@/lib/roles';
import type { Principal } from '@/server/core/auth';
import { CachedJson } from '@/server/core/cached-json';
import { ConflictError, ForbiddenError, machineNotFound, UnauthorizedError } from '@/server/core/errors';
import { NODE_HEADERS } from '@/server/core/cluster/cluster';
import { forward } from '@/server/core/cluster/forward';
import { placeFork, placeNew, type PlacementAsk } from '@/server/core/cluster/placement';
import { jobNodeId } from '@/db/repo/jobs';
import { getImageRow } from '@/db/repo/images';
import type { Machine } from '@/lib/contracts/machines';
import { decodeCursor, type PageRequest } from '@/server/core/paging';
import { credentialsFrom, forwardedFrom, isSameOrigin } from '@/server/transport/credentials';
// Shared with the socket namespaces (server/transport): one error envelope for both.
export { envelope, errorToResponse, zodIssues } from '@/server/transport/errors';
import { openapiRequestBody, openapiResponses } from './responses';
import { sendJson } from './send';
import { ownerRule, type AnyObject, type AnyRouteSpec, type App, type AppEnv, type OwnerRule, type RouteEntry, type RouteSpec } from './route-spec';
export { ownerRule } from './route-spec';
export type { Access, OwnerRule, AnyRouteSpec, App, AppEnv, ErrorStatus, RouteEntry, RouteSpec, Sent } from './route-spec';

/** A machine by id or by name: names never contain `_`, ids always do, so the two cannot collide. */
export const isMachineRef = (s: string): boolean => ID_PATTERN.test(s) || NAME_PATTERN.test(s);
export const refParams = z.object({ ref: z.string().refine(isMachineRef, 'a machine id or name') });
/** Routes under /machines/{ref}: the guard loads the machine once and hands it to the handler. */
const MACHINE_ROUTE = /^\/machines\/\{ref\}(\/|$)/;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answers a browser must not keep (send.ts): who is who, and who did what. */
const PRIVATE_TAGS = new Set(['auth', 'users', 'audit', 'shares', 'grants']);

export function clientIp(c: Context<AppEnv>): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}

/** The node that owns what the request names (null: this node, or no owner rule). */
async function ownerOf(c: Context<AppEnv>, spec: AnyRouteSpec, rule: OwnerRule | undefined, machine: Machine | undefined): Promise<string | null> {
  if (!rule || rule === 'any') return null;
  if (rule === 'machine') return machine?.node?.id ?? null;
  const core = c.get('core');
  if (rule === 'placement') {
    // A copy: the body stays unread for the validator here, or for the node it is forwarded to. Not valid: here, for the validator's 400.
    const parsed = spec.body?.safeParse(
      await c.req.raw
        .clone()
        .json()
        .catch(() => null),
    );
    return parsed?.success ? placeNew(core.store, core.cluster, parsed.data as PlacementAsk) : null;
  }
  if ('job' in rule) return jobNodeId(core.store, c.req.param(rule.job) ?? '');
  // Its files are on the node that made it (rows older than the cluster: the founder's).
  if ('image' in rule) return (await getImageRow(core.store, { id: c.req.param(rule.image) ?? '' }))?.nodeId ?? null;
  const snap = await core.snapshots.resolve(c.req.param(rule.snapshot) ?? '').catch(() => null);
  if (snap && rule.machine) {
    // The machine put back runs where it runs: the snapshot comes to it (cluster/replicas.ts).
    const body: unknown = await c.req.raw
      .clone()
      .json()
      .catch(() => null);
    const named = body && typeof body === 'object' ? (body as Record<string, unknown>)[rule.machine] : undefined;
    const ref = typeof named === 'string' && isMachineRef(named) ? named : snap.machineId;
    const target = ref ? await core.machines.listing.one(ref) : null;
    if (target) return target.machine.node?.id ?? null;
  }
  if (snap && rule.pin) {
    const body: unknown = await c.req.raw
      .clone()
      .json()
      .catch(() => null);
    const pin = body && typeof body === 'object' ? (body as Record<string, unknown>)[rule.pin] : undefined;
    if (typeof pin === 'string' && pin) return placeFork(core.cluster, snap, pin);
  }
  return snap?.nodeId ?? null;
}

/**
 * Authenticate, enforce the route's access rule, guard cookie-authenticated changes against
 * CSRF, and on a machine's routes load the machine once (its row is then not read again).
 */
function guard(spec: AnyRouteSpec): MiddlewareHandler<AppEnv> {
  const { access, machineGrant } = spec;
  // Which kind of link may call it: a console link (true) or a recording link ('recording'); never both.
  const share = spec.share === 'recording' ? 'recording' : spec.share ? 'console' : null;
  const machineRoute = MACHINE_ROUTE.test(spec.path);
  const template = `/api${spec.path}`;
  const owner = ownerRule(spec);
  return async (c, next) => {
    c.set('route', template);
    const core = c.get('core');
    if (access === 'node') {
      const url = new URL(c.req.url);
      const node = await core.cluster.verify({ method: c.req.method, path: url.pathname + url.search, header: (n) => c.req.header(n) });
      if (!node) throw new UnauthorizedError('Only the nodes of this cluster may call this route.');
      c.set('principal', null);
      return next();
    }
    const shareHeader = c.req.header('x-hangar-share');
    const creds = credentialsFrom({ cookie: c.req.header('cookie'), authorization: c.req.header('authorization'), share: shareHeader });
    const signed = forwardedFrom({ node: c.req.header(NODE_HEADERS.node), forwarded: c.req.header(NODE_HEADERS.forwarded) });
    const url = new URL(c.req.url);
    const forwarded = signed && { ...signed, method: c.req.method, path: url.pathname + url.search, header: (n: string) => c.req.header(n) };
    const principal = await core.auth.authenticate(forwarded ? { forwarded } : creds);
    c.set('principal', principal);
    if (forwarded && !principal) throw new UnauthorizedError('The node signature of this forwarded request is not valid.');
    if (access !== 'public' && !principal) throw new UnauthorizedError(shareHeader ? 'This share link has expired or was revoked.' : undefined);
    if (principal?.via === 'share' && access !== 'public') {
      const kind = principal.share?.recordingId ? 'recording' : 'console';
      if (kind !== share)
        throw new ForbiddenError(
          kind === 'recording' ? 'A recording link opens its recording and nothing else.' : "A share link opens its machine's console and nothing else.",
        );
    }
    // A browser sends our cookie on its own, so cookie-authenticated changes (and the public
    // login form: login CSRF) must come from our own pages. Token callers are not browsers.
    if (
      MUTATING.has(c.req.method) &&
      (!principal || (principal.via === 'session' && !principal.forwarded)) &&
      !isSameOrigin({
        origin: c.req.header('origin'),
        host: c.req.header('host'),
        'sec-fetch-site': c.req.header('sec-fetch-site'),
      })
    ) {
      throw new ForbiddenError("Cross-site request refused: changes with a session cookie must come from Hangar's own pages (scripts use an API token).");
    }
    if (access === 'public') return next();
    // A malformed ref is left to the route's validator (400); a well-formed one is loaded here, once.
    const ref = machineRoute ? c.req.param('ref') : undefined;
    const loaded = ref && isMachineRef(ref) ? ((await core.machines.listing.one(ref))?.machine ?? null) : undefined;
    if (machineGrant && ref) {
      // A teammate given this one machine (a grant) may do here what their global role does not allow elsewhere.
      await core.grants.authorize(principal!, loaded ?? null, access, machineGrant, ref);
    } else if (!hasRole(principal!.role, access)) {
      throw new ForbiddenError(`This needs the ${access} role; you have ${principal!.role}.`);
    }
    if (loaded === null) throw machineNotFound(ref!);
    c.set('machine', loaded);
    // A cluster: what another node owns is done there, for this caller (before the validators and the handler run here).
    if (core.cluster?.enabled) {
      const target = await ownerOf(c, spec, owner, loaded);
      if (target && !core.cluster.isLocal(target)) {
        if (principal!.forwarded) throw new ConflictError('This is not on the node the request was forwarded to (it moved): try again.');
        return forward(core.cluster, c.req.raw, target, principal!, clientIp(c));
      }
    }
    return next();
  };
}

export function defineRoute<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined, R extends z.ZodType>(
  spec: RouteSpec<P, Q, B, R>,
): RouteSpec<P, Q, B, R> {
  return spec;
}

/** `limit` and `cursor`, added to a list route's query. */
export function pageQuery(list: NonNullable<AnyRouteSpec['list']>) {
  return z.object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(list.maxLimit ?? 1000)
      .optional()
      .describe(list.defaultLimit ? `At most this many items (default ${list.defaultLimit})` : 'At most this many items (default: all)'),
    cursor: z
      .string()
      .max(1024)
      .regex(/^[A-Za-z0-9_-]+$/, 'the `next` of the previous page')
      .optional()
      .describe('The `next` of the previous page'),
  });
}

/** The query schema a route validates: its own, and the page's on lists. */
export function queryOf(spec: AnyRouteSpec): AnyObject | undefined {
  if (!spec.list) return spec.query;
  const page = pageQuery(spec.list);
  return (spec.query ? spec.query.extend(page.shape) : page) as AnyObject;
}

export function register(app: App, table: RouteEntry[], spec: AnyRouteSpec): void {
  const status = spec.status ?? 200;
  const query = queryOf(spec);
  const config = {
    method: spec.method,
    path: spec.path,
    operationId: spec.name,
    summary: spec.summary,
    tags: [spec.tag],
    middleware: [guard(spec)],
    security: spec.access === 'public' || spec.access === 'node' ? [] : [{ cookie: [] }, { bearer: [] }],
    // Who may call it, in the published spec too: the authorization matrix test reads it from there.
    'x-hangar-access': spec.access,
    ...(spec.machineGrant ? { 'x-hangar-machine-grant': spec.machineGrant } : {}),
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(query ? { query } : {}),
      ...openapiRequestBody(spec),
    },
    responses: openapiResponses(spec),
  } as RouteConfig;
  table.push({ method: spec.method, path: spec.path, access: spec.access, ...(spec.machineGrant ? { machineGrant: spec.machineGrant } : {}) });
  app.openapi(createRoute(config), async (c) => {
    // The validators of this very route parsed these with the spec's schemas, so the casts hold.
    const valid = (target: 'param' | 'query' | 'json'): unknown => c.req.valid(target as never);
    const principal = c.get('principal');
    const q = query ? (valid('query') as { limit?: number; cursor?: string }) : undefined;
    const page: PageRequest = {
      limit: q?.limit ?? spec.list?.defaultLimit,
      after: spec.list && q?.cursor ? decodeCursor(q.cursor) : undefined,
    };
    const data = await spec.handler({
      c,
      core: c.get('core'),
      principal: principal as Principal,
      maybePrincipal: principal,
      params: spec.params ? valid('param') : undefined,
      query: q,
      body: spec.body ? valid('json') : undefined,
      machine: c.get('machine'),
      page,
      // A forwarded request: the client's address as the first node saw it.
      ip: principal?.forwarded ? principal.forwarded.ip : clientIp(c),
    } as Parameters<typeof spec.handler>[0]);
    // A file download (a snapshot archive) or a stream answers with its own Response.
    if (data instanceof Response) return data as never;
    return sendJson(c, data instanceof CachedJson ? data : new CachedJson(JSON.stringify(data)), status, !PRIVATE_TAGS.has(spec.tag)) as never;
  });
}
