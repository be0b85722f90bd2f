import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { GrantRole } from '@/lib/contracts/grants';
import type { Machine } from '@/lib/contracts/machines';
import type { Role } from '@/lib/roles';
import type { Principal } from '@/server/core/auth';
import type { CachedJson } from '@/server/core/cached-json';
import type { Core } from '@/server/core/hangar';
import type { PageRequest } from '@/server/core/paging';

// The route helper's types, apart from route.ts so that what route.ts uses (responses.ts, send.ts) can name them.

/** `route`: the template of the operation that answers (set by its guard), for /metrics. */
export type AppEnv = { Variables: { principal: Principal | null; core: Core; machine: Machine | undefined; route: string | undefined } };
export type App = OpenAPIHono<AppEnv>;

/**
 * Who may call a route: anyone, a signed-in caller with at least this role, or (`node`) only
 * another node of the cluster, by its signature: a user's cookie, token or share link never.
 */
export type Access = 'public' | 'node' | Role;
export type OwnerRule = 'machine' | 'any' | 'placement' | { job: string } | { snapshot: string; pin?: string; machine?: string } | { image: string };
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type AnyObject = z.ZodObject<z.ZodRawShape>;
/** The error statuses an operation may answer with (the helper derives most; see responses.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503;
/** What a handler may answer besides its JSON: a streamed file or stream, or a body a cache keeps. */
export type Sent = Response | CachedJson;

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
  /**
   * A share link may call it (only the share routes: a link opens its machine's console and nothing else);
   * 'recording': only a recording link may, and no console link (a recording link reads its one recording, nothing else).
   */
  share?: boolean | 'recording';
  /** On a /machines/{ref} route: the grant on that machine that lets in a caller whose global role is too weak. */
  machineGrant?: GrantRole;
  /**
   * Which node answers (a cluster): the node that owns the machine (`machine`, the default under
   * /machines/{ref}), the job, the snapshot or the image named by that path parameter; any node (`any`: a
   * read or write of rows only); or the node placement picks for a new machine from the JSON body's
   * `image`, `driver` and `node` (`placement`: server/core/cluster/placement.ts). `{ snapshot, pin }`: the
   * node the JSON body's field `pin` names when it names one, else the snapshot's. `{ snapshot, machine }`:
   * the node of the machine the JSON body's field `machine` names (else the snapshot's own machine), the
   * snapshot being copied there when that node does not hold it (a restore); else the snapshot's.
   * A request for something another node owns is forwarded there by the route's guard.
   */
  owner?: OwnerRule;
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

/** Routes under /machines/{ref}: forwarded to the machine's node unless they say otherwise. */
export const MACHINE_ROUTE = /^\/machines\/\{ref\}(\/|$)/;

/** The route's owner rule: its own, or `machine` under /machines/{ref}. */
export function ownerRule(spec: Pick<AnyRouteSpec, 'owner' | 'path'>): OwnerRule | undefined {
  return spec.owner ?? (MACHINE_ROUTE.test(spec.path) ? 'machine' : undefined);
}

/** A cluster may forward it to another node (which may be offline: 503). */
export function mayForward(spec: Pick<AnyRouteSpec, 'owner' | 'path'>): boolean {
  const r = ownerRule(spec);
  return r !== undefined && r !== 'any';
}
