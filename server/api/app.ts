import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Core } from '@/server/core/hangar';
import { RateLimitedError } from '@/server/core/errors';
import { envelope, errorToResponse, register, zodIssues, type AnyRouteSpec, type App, type AppEnv, type RouteEntry } from './route';
import { authRoutes } from './auth';
import { cliLoginRoutes } from './cli-login';
import { healthRoutes } from './health';
import { hostRoutes } from './host';
import { driverRoutes } from './drivers';
import { imagePublishRoutes } from './image-publish';
import { diskImageRoutes } from './disk-images';
import { imageRoutes } from './images';
import { isoRoutes } from './isos';
import { nodeRoutes } from './nodes';
import { jobRoutes } from './jobs';
import { machineRoutes } from './machines';
import { moveRoutes } from './moves';
import { recordingRoutes } from './recordings';
import { fileRoutes } from './files';
import { probeRoutes } from './probes';
import { runRoutes } from './runs';
import { settingsRoutes } from './settings';
import { snapshotRoutes } from './snapshots';
import { diffRoutes } from './diff';
import { stepRoutes } from './steps';
import { tokenRoutes } from './tokens';
import { sshRoutes } from './ssh';
import { displayRoutes } from './display';
import { diskRoutes } from './disks';
import { userRoutes } from './users';
import { limitRoutes } from './limits';
import { ssoRoutes } from './sso';
import { recordingShareRoutes } from './recording-shares';
import { shareRoutes } from './shares';
import { forkLinkRoutes } from './fork-links';
import { grantRoutes } from './grants';
import { auditRoutes } from './audit';
import { statsRoutes } from './stats';
import { webhookRoutes } from './webhooks';
import { backupRoutes } from './backups';
import { metricsRoutes } from './metrics';
import { scheduleRoutes } from './schedules';
import { undoRoutes } from './undo';

export const MAX_BODY_BYTES = 1024 * 1024;
/** How much of an oversized body is read and dropped before the 413, and for how long at most. */
const DISCARD_MAX_BYTES = 16 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

/**
 * Reads what is left of a refused body and drops it: true when it ended, false when it was over `maxBytes`, took
 * over `ms`, failed, or was already being read (the body limit reads a body of unknown length itself).
 */
export async function discardBody(body: ReadableStream<Uint8Array> | null, maxBytes: number, ms: number): Promise<boolean> {
  if (!body) return true;
  if (body.locked) return false;
  const reader = body.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel().catch(() => {});
  }, ms);
  try {
    for (let n = 0; ;) {
      const { done, value } = await reader.read();
      if (done) return !timedOut;
      n += value.byteLength;
      if (n > maxBytes) {
        void reader.cancel().catch(() => {});
        return false;
      }
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The operations' tags, described (outside tools list operations under them). */
const API_TAGS = [
  { name: 'system', description: 'Health, host capabilities, server settings' },
  { name: 'auth', description: 'Logging in, sessions, API tokens, your preferences' },
  { name: 'users', description: 'Accounts and roles (admins)' },
  { name: 'jobs', description: 'Long work: progress, logs, cancel' },
  { name: 'machines', description: 'Machines: lifecycle, exec, logs, settings, recordings' },
  { name: 'snapshots', description: 'Checkpoint, restore, fork, export and import' },
  { name: 'shares', description: 'Share links to one console' },
  { name: 'grants', description: 'Per-machine roles' },
  { name: 'ssh', description: 'Your SSH keys; OpenSSH to machines through Hangar (host keys, the tunnel)' },
  { name: 'stats', description: 'Live figures of the host and machines' },
  { name: 'images', description: 'Base images' },
  { name: 'probes', description: 'Package probes in throwaway containers' },
  { name: 'steps', description: 'Cached step trees' },
  { name: 'audit', description: 'The audit log (admins)' },
  { name: 'webhooks', description: 'Signed event deliveries to other services (admins)' },
  { name: 'backups', description: 'Backup targets (admins), backups of snapshots and restores from them' },
  { name: 'metrics', description: 'The Prometheus scrape token (admins); the metrics are at /metrics' },
];

// shareRoutes and grantRoutes before machineRoutes: /machines/{ref}/shares must win over /machines/{ref}/{action}.
export const routeGroups: readonly (readonly AnyRouteSpec[])[] = [
  healthRoutes,
  authRoutes,
  cliLoginRoutes,
  tokenRoutes,
  jobRoutes,
  snapshotRoutes,
  diffRoutes,
  shareRoutes,
  recordingShareRoutes,
  forkLinkRoutes,
  grantRoutes,
  recordingRoutes,
  fileRoutes,
  sshRoutes,
  displayRoutes,
  isoRoutes,
  nodeRoutes,
  diskRoutes,
  statsRoutes,
  scheduleRoutes,
  undoRoutes,
  moveRoutes,
  machineRoutes,
  runRoutes,
  imagePublishRoutes,
  imageRoutes,
  diskImageRoutes,
  hostRoutes,
  driverRoutes,
  settingsRoutes,
  probeRoutes,
  stepRoutes,
  limitRoutes,
  ssoRoutes,
  userRoutes,
  auditRoutes,
  webhookRoutes,
  backupRoutes,
  metricsRoutes,
];

/** The REST API, mounted by server/main.ts under /api. */
export function createApi(core: Core): { app: App; routes: RouteEntry[] } {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(envelope('validation_failed', 'Invalid input.', zodIssues(result.error)), 400);
    },
  }).basePath('/api') as unknown as App;
  const routes: RouteEntry[] = [];

  app.use('*', async (c, next) => {
    c.set('core', core);
    c.header('Cache-Control', 'no-store');
    const t0 = performance.now();
    await next();
    // By the operation's template (bounded label values); anything no route matched counts as one.
    core.metrics?.observeHttp(c.req.method, c.get('route') ?? 'unmatched', c.res.status, (performance.now() - t0) / 1000);
  });
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: async (c) => {
      // Answered once the client has sent it all: a socket closed with unread bytes is reset, and the client can
      // lose the answer. A rest too long or too slow is not waited for, and the connection goes with it.
      const announced = Number(c.req.header('content-length') ?? 0);
      // One announced longer than the cap is not read at all.
      const rest = announced <= DISCARD_MAX_BYTES && (await discardBody(c.req.raw.body, DISCARD_MAX_BYTES, DISCARD_MAX_MS));
      if (!rest) c.header('Connection', 'close');
      return c.json(envelope('payload_too_large', `Request body over ${MAX_BODY_BYTES} bytes.`), 413);
    },
  });
  // Uploads (snapshot archives, packages to probe) are streamed to a file with caps of their own. GET and HEAD
  // carry no body: the limit is not even asked there (it builds the whole Request to look).
  // A path parameter ({id}) matches one segment.
  const uploads = routeGroups.flat().flatMap((r) => (r.upload ? [new RegExp(`^/api${r.path.replace(/\{[^}]+\}/g, '[^/]+')}$`)] : []));
  const isUpload = (p: string) => uploads.some((re) => re.test(p));
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' || isUpload(c.req.path) ? next() : limit(c, next)));

  for (const group of routeGroups) for (const spec of group) register(app, routes, spec);

  app.openAPIRegistry.registerComponent('securitySchemes', 'cookie', { type: 'apiKey', in: 'cookie', name: 'hangar_session' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'API token (hangar login, Settings > API tokens)',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Hangar API',
      version: core.version,
      description:
        'Disposable machines (QEMU VMs, nspawn and podman containers): lifecycle as jobs, snapshots, consoles. ' +
        'Errors: `{ error: { code, message, issues? } }`.',
      // OpenAPI 3.1's SPDX identifier (the library's types know only 3.0's url).
      license: { name: 'MIT', identifier: 'MIT' } as { name: string },
    },
    // Relative: the document is served by the Hangar it describes, and its paths carry /api.
    servers: [{ url: '/', description: 'The Hangar server that serves this document' }],
    tags: API_TAGS,
  });
  routes.push({ method: 'get', path: '/openapi.json', access: 'public' });

  app.notFound((c) => c.json(envelope('not_found', `No route ${c.req.method} ${c.req.path}.`), 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      // Hono's own: malformed JSON, bad content type.
      const status = err.status >= 400 && err.status < 500 ? err.status : 400;
      return c.json(envelope(status === 413 ? 'payload_too_large' : 'bad_request', err.message || 'Bad request.'), status);
    }
    const { status, body } = errorToResponse(err);
    if (err instanceof RateLimitedError) c.header('Retry-After', String(err.retryAfterS));
    if (status >= 500) console.error(`${c.req.method} ${c.req.path}:`, err);
    return c.json(body, status as 400);
  });
  return { app, routes };
}
