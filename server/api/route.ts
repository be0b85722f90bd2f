import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { z } from 'zod';
import { errorEnvelopeSchema } from '@/lib/contracts/common';
import { hasRole, type Role } from '@/lib/roles';
import type { Principal } from '@/server/core/auth';
import type { Core } from '@/server/core/hangar';
import { ForbiddenError, UnauthorizedError } from '@/server/core/errors';
import { credentialsFrom, isSameOrigin } from '@/server/transport/credentials';
// Shared with the socket namespaces (server/transport): one error envelope for both.
export { envelope, errorToResponse, zodIssues } from '@/server/transport/errors';
import type { GrantRole } from '@/lib/contracts/grants';

export type AppEnv = { Variables: { principal: Principal | null; core: Core } };
export type App = OpenAPIHono<AppEnv>;

/** Who may call a route: anyone, or a signed-in caller with at least this role. */
export type Access = 'public' | Role;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined, R extends z.ZodType> {
  method: Method;
  /** OpenAPI style, under /api: `/jobs/{id}`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /** A share link may call it (only the share routes: a link opens its machine's console and nothing else). */
  share?: boolean;
  /** On a /machines/{ref} route: the grant on that machine that lets in a caller whose global role is too weak. */
  machineGrant?: GrantRole;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  status?: 200 | 201 | 202;
  // Method syntax on purpose: specs with narrower inputs go into one route table.
  handler(ctx: {
    c: Context<AppEnv>;
    core: Core;
    /** Non-null whenever access is not 'public'. */
    principal: Principal;
    maybePrincipal: Principal | null;
    params: P extends AnyObject ? z.infer<P> : undefined;
    query: Q extends AnyObject ? z.infer<Q> : undefined;
    body: B extends z.ZodType ? z.infer<B> : undefined;
    ip: string | null;
  }): Promise<z.infer<R>>;
}

/** The route table: every registered route and its access rule (the authorization matrix test reads it). */
export interface RouteEntry {
  method: Method;
  path: string;
  access: Access;
  machineGrant?: GrantRole;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function clientIp(c: Context<AppEnv>): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}

/** Authenticate, enforce the route's access rule, and guard cookie-authenticated changes against CSRF. */
function guard(access: Access, share: boolean, machineGrant?: GrantRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const core = c.get('core');
    const principal = await core.auth.authenticate(
      credentialsFrom({ cookie: c.req.header('cookie'), authorization: c.req.header('authorization'), share: c.req.header('x-hangar-share') }),
    );
    c.set('principal', principal);
    if (access !== 'public' && !principal)
      throw new UnauthorizedError(c.req.header('x-hangar-share') ? 'This share link has expired or was revoked.' : undefined);
    if (principal?.via === 'share' && !share && access !== 'public') throw new ForbiddenError("A share link opens its machine's console and nothing else.");
    // A browser sends our cookie on its own, so cookie-authenticated changes (and the public
    // login form: login CSRF) must come from our own pages. Token callers are not browsers.
    if (
      MUTATING.has(c.req.method) &&
      (!principal || principal.via === 'session') &&
      !isSameOrigin({
        origin: c.req.header('origin'),
        host: c.req.header('host'),
        'sec-fetch-site': c.req.header('sec-fetch-site'),
      })
    ) {
      throw new ForbiddenError("Cross-site request refused: changes with a session cookie must come from Hangar's own pages (scripts use an API token).");
    }
    if (access === 'public') return next();
    // A teammate given this one machine (a grant) may do here what their global role does not allow elsewhere.
    const ref = machineGrant ? c.req.param('ref') : undefined;
    if (ref) {
      await core.grants.authorize(principal!, ref, access, machineGrant!);
      return next();
    }
    if (hasRole(principal!.role, access)) return next();
    throw new ForbiddenError(`This needs the ${access} role; you have ${principal!.role}.`);
  };
}

export function defineRoute<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined, R extends z.ZodType>(
  spec: RouteSpec<P, Q, B, R>,
): RouteSpec<P, Q, B, R> {
  return spec;
}

export function register(app: App, table: RouteEntry[], spec: RouteSpec<AnyObject | undefined, AnyObject | undefined, z.ZodType | undefined, z.ZodType>): void {
  const status = spec.status ?? 200;
  const errorResponse = { description: 'Error envelope', content: { 'application/json': { schema: errorEnvelopeSchema } } };
  const config = {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: [spec.tag],
    middleware: [guard(spec.access, !!spec.share, spec.machineGrant)],
    security: spec.access === 'public' ? [] : [{ cookie: [] }, { bearer: [] }],
    // Who may call it, in the published spec too: the authorization matrix test reads it from there.
    'x-hangar-access': spec.access,
    ...(spec.machineGrant ? { 'x-hangar-machine-grant': spec.machineGrant } : {}),
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses: { [status]: { description: 'OK', content: { 'application/json': { schema: spec.response } } }, default: errorResponse },
  } as RouteConfig;
  table.push({ method: spec.method, path: spec.path, access: spec.access, ...(spec.machineGrant ? { machineGrant: spec.machineGrant } : {}) });
  app.openapi(createRoute(config), async (c) => {
    // The validators of this very route parsed these with the spec's schemas, so the casts hold.
    const valid = (target: 'param' | 'query' | 'json'): unknown => c.req.valid(target as never);
    const principal = c.get('principal');
    const data = await spec.handler({
      c,
      core: c.get('core'),
      principal: principal as Principal,
      maybePrincipal: principal,
      params: spec.params ? valid('param') : undefined,
      query: spec.query ? valid('query') : undefined,
      body: spec.body ? valid('json') : undefined,
      ip: clientIp(c),
    } as Parameters<typeof spec.handler>[0]);
    // A file download (a snapshot archive) answers with its own streamed Response.
    if (data instanceof Response) return data as never;
    return c.json(data, status);
  });
}
