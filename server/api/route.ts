import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { z } from 'zod';
import { ID_PATTERN, NAME_PATTERN, type ErrorCode } from '@/lib/contracts/common';
import type { Machine } from '@/lib/contracts/machines';
import { hasRole, type Role } from '@/lib/roles';
import type { Principal } from '@/server/core/auth';
import type { Core } from '@/server/core/hangar';
import { CachedJson } from '@/server/core/cached-json';
import { ForbiddenError, HangarError, NotFoundError, UnauthorizedError, statusOf } from '@/server/core/errors';
import { decodeCursor, type PageRequest } from '@/server/core/paging';
import { credentialsFrom, isSameOrigin } from './credentials';
import type { GrantRole } from '@/lib/contracts/grants';
import { openapiRequestBody, openapiResponses } from './responses';
import { sendJson } from './send';

export type AppEnv = { Variables: { principal: Principal | null; core: Core; machine: Machine | undefined } };
export type App = OpenAPIHono<AppEnv>;

/** Who may call a route: anyone, or a signed-in caller with at least this role. */
export type Access = 'public' | Role;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;
/** The error statuses an operation may answer with (the helper derives most; see responses.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503;
/** What a handler may answer besides its JSON: a streamed file or stream, or a body a cache keeps. */
export type Sent = Response | CachedJson;

/** A machine by id or by name: names never contain `_`, ids always do, so the two cannot collide. */
export const isMachineRef = (s: string): boolean => ID_PATTERN.test(s) || NAME_PATTERN.test(s);
export const refParams = z.object({ ref: z.string().refine(isMachineRef, 'a machine id or name') });
/** Routes under /machines/{ref}: the guard loads the machine once and hands it to the handler. */
const MACHINE_ROUTE = /^\/machines\/\{ref\}(\/|$)/;

type MachineOf<P> = P extends AnyObject ? (z.infer<P> extends { ref: string } ? Machine : undefined) : undefined;

export interface RouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined, R extends z.ZodType> {
  method: Method;
  /** OpenAPI style, under /api: `/jobs/{id}`. */
  path: string;
  /** The operationId: camelCase, unique (route.test.ts checks), stable (SDK generators name methods from it). */
  name: string;
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
  /** The body is a file, streamed to disk by the handler with its own cap (not JSON, not under the 1 MiB limit). */
  upload?: { type: string; description: string };
  response: R;
  /** Not JSON: the handler answers a Response of this media type (schema: of one line, for JSON lines). */
  produces?: { type: string; description: string; schema?: z.ZodType };
  status?: 200 | 201 | 202;
  /** Errors the domain may answer beyond those the helper derives (responses.ts): 409, 503, a 404 on a name in the body. */
  errors?: ErrorStatus[];
  /** A list: `limit` and `cursor` in the query, `{ items, next }` in the answer. Without a limit, every item (or `defaultLimit`). */
  list?: { defaultLimit?: number; maxLimit?: number };
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
    /** On /machines/{ref} routes: the machine, loaded once by the guard. */
    machine: MachineOf<P>;
    /** On list routes: the page asked for. */
    page: PageRequest;
    ip: string | null;
  }): Promise<z.infer<R> | Sent>;
}

export type AnyRouteSpec = RouteSpec<AnyObject | undefined, AnyObject | undefined, z.ZodType | undefined, z.ZodType>;

/** The route table: every registered route, its access rule and its spec (the authorization matrix and the response validator read it). */
export interface RouteEntry {
  method: Method;
  path: string;
  access: Access;
  machineGrant?: GrantRole;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answers a browser must not keep (send.ts): who is who, and who did what. */
const PRIVATE_TAGS = new Set(['auth', 'users', 'audit', 'shares', 'grants']);

export function envelope(code: ErrorCode, message: string, issues?: { path: string; message: string }[]) {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

export function zodIssues(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

export function clientIp(c: Context<AppEnv>): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}

/**
 * Authenticate, enforce the route's access rule, guard cookie-authenticated changes against
 * CSRF, and on a machine's routes load the machine once (its row is then not read again).
 */
function guard(spec: AnyRouteSpec): MiddlewareHandler<AppEnv> {
  const { access, machineGrant } = spec;
  const share = !!spec.share;
  const machineRoute = MACHINE_ROUTE.test(spec.path);
  return async (c, next) => {
    const core = c.get('core');
    const shareHeader = c.req.header('x-hangar-share');
    const principal = await core.auth.authenticate(
      credentialsFrom({ cookie: c.req.header('cookie'), authorization: c.req.header('authorization'), share: shareHeader }),
    );
    c.set('principal', principal);
    if (access !== 'public' && !principal) throw new UnauthorizedError(shareHeader ? 'This share link has expired or was revoked.' : undefined);
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
    // A malformed ref is left to the route's validator (400); a well-formed one is loaded here, once.
    const ref = machineRoute ? c.req.param('ref') : undefined;
    const loaded = ref && isMachineRef(ref) ? ((await core.machines.cached(ref))?.machine ?? null) : undefined;
    if (machineGrant && ref) {
      // A teammate given this one machine (a grant) may do here what their global role does not allow elsewhere.
      await core.grants.authorize(principal!, loaded ?? null, access, machineGrant);
    } else if (!hasRole(principal!.role, access)) {
      throw new ForbiddenError(`This needs the ${access} role; you have ${principal!.role}.`);
    }
    if (loaded === null) throw new NotFoundError('Machine');
    c.set('machine', loaded);
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
    security: spec.access === 'public' ? [] : [{ cookie: [] }, { bearer: [] }],
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
      ip: clientIp(c),
    } as Parameters<typeof spec.handler>[0]);
    // A file download (a snapshot archive) or a stream answers with its own Response.
    if (data instanceof Response) return data as never;
    return sendJson(c, data instanceof CachedJson ? data : new CachedJson(JSON.stringify(data)), status, !PRIVATE_TAGS.has(spec.tag)) as never;
  });
}

/** SQLite's and PostgreSQL's "duplicate key", directly or wrapped by Drizzle. */
function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === '23505') return true;
  }
  return false;
}

/** Map anything thrown to the one envelope; unexpected errors are logged and told apart from ours. */
export function errorToResponse(err: unknown): { status: number; body: ReturnType<typeof envelope> } {
  if (err instanceof HangarError) {
    return { status: statusOf[err.code], body: envelope(err.code, err.message, err.issues) };
  }
  if (err instanceof z.ZodError) return { status: 400, body: envelope('validation_failed', 'Invalid input.', zodIssues(err)) };
  // Two requests creating the same name at once: the database's unique index decides, the loser hears 409.
  if (isUniqueViolation(err)) return { status: 409, body: envelope('conflict', 'It exists already (made by another request just now).') };
  return { status: 500, body: envelope('internal', 'Internal error: see the server log.') };
}
