import { errorEnvelopeSchema } from '@/lib/contracts/common';
import { routeGroups } from '@/server/api/app';
import type { AnyRouteSpec } from '@/server/api/route';
import { responseRules, type ResponseRule } from '@/server/api/responses';

/**
 * Every API answer the integration suite receives, checked against what the route table
 * documents for its operation (the same rules the OpenAPI document is made from): the status
 * must be one of the operation's, the media type its own, and a JSON body must satisfy the
 * zod schema of that status (the route's response schema, or the error envelope). Streams and
 * files are checked by status and media type only (reading them would keep them open).
 */
interface Operation {
  spec: AnyRouteSpec;
  method: string;
  pattern: RegExp;
  rules: Map<number, ResponseRule>;
}

// In the order the app registers them: the first that matches answers, as in Hono.
const operations: Operation[] = routeGroups.flat().map((spec) => ({
  spec,
  method: spec.method.toUpperCase(),
  pattern: new RegExp(`^/api${spec.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  rules: responseRules(spec),
}));

/** Answered by Node's HTTP parser before any route runs (a 70 KB URL, broken framing): outside the API's contract. */
const TRANSPORT_STATUSES = new Set([408, 431]);

const violations: string[] = [];

/** Violations seen since the last call (the setup file fails the test they happened in). */
export function takeViolations(): string[] {
  return violations.splice(0);
}

function requestOf(input: RequestInfo | URL, init?: RequestInit): { method: string; url: URL } | null {
  try {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return { method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), url };
  } catch {
    return null;
  }
}

/** What is wrong with this answer to `method path`, or null. */
export async function checkResponse(method: string, path: string, res: Response): Promise<string | null> {
  if (TRANSPORT_STATUSES.has(res.status)) return null;
  if (method === 'GET' && path === '/api/openapi.json') return res.status === 200 ? null : `status ${res.status}`;
  const op = operations.find((o) => o.method === method && o.pattern.test(path));
  const type = res.headers.get('content-type') ?? '';
  if (!op) {
    // No such route: the envelope's 404.
    if (res.status !== 404) return `no operation matches, yet status ${res.status}`;
    return checkJson(res, { status: 404, description: '', media: 'application/json', schema: errorEnvelopeSchema });
  }
  const rule = op.rules.get(res.status);
  if (!rule) return `${op.spec.name}: status ${res.status} is not documented (documented: ${[...op.rules.keys()].join(', ')})`;
  if (rule.media === null) return res.body && (await res.clone().text()) ? `${op.spec.name}: ${res.status} must have no body` : null;
  if (!type.toLowerCase().startsWith(rule.media)) return `${op.spec.name}: ${res.status} answered ${type || 'no content type'}, documented ${rule.media}`;
  if (!rule.schema) return null;
  const wrong = await checkJson(res, rule);
  return wrong && `${op.spec.name}: ${wrong}`;
}

async function checkJson(res: Response, rule: ResponseRule): Promise<string | null> {
  const text = await res.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${rule.status}: not JSON: ${text.slice(0, 200)}`;
  }
  const r = rule.schema!.safeParse(body);
  if (r.success) return null;
  const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return `${rule.status}: body does not match its schema: ${issues.join('; ')}; body: ${text.slice(0, 300)}`;
}

let installed = false;

/** Wrap this process's fetch: every answer from a Hangar API path is checked, violations kept for takeViolations(). */
export function installResponseValidator(): void {
  if (installed) return;
  installed = true;
  const fetchFirst = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await fetchFirst(input, init);
    const req = requestOf(input, init);
    if (req && (req.url.pathname === '/api' || req.url.pathname.startsWith('/api/')) && ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) {
      const wrong = await checkResponse(req.method, req.url.pathname, res).catch((e: unknown) => `could not check: ${String(e)}`);
      if (wrong) violations.push(`${req.method} ${req.url.pathname}${req.url.search} -> ${wrong}`);
    }
    return res;
  };
}
