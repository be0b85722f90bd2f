import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, type RunningServer, startServer, tearDown } from './harness';

/**
 * Hostile input for every JSON API, generated from the published spec: each body property,
 * path parameter and query parameter gets very long strings, unicode, null bytes, path
 * traversal, shell metacharacters, huge numbers and wrong types, as the admin (the caller
 * who reaches the most code). The server must answer 4xx with the error envelope (or 2xx when
 * a value happens to be valid), never 500, never hang; and no file may appear outside the data
 * dir (the payloads name a marker file that a traversal or a shell would create).
 */
type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; enum?: unknown[] };
type Op = { method: string; path: string; body?: Schema; params: string[]; query: string[] };

const MARK = `hangar-fuzz-${randomBytes(4).toString('hex')}`;
const STRINGS = [
  '',
  ' ',
  'a'.repeat(70_000),
  'nul\u0000byte',
  '\u0000',
  `../../../../../../tmp/${MARK}`,
  `/tmp/${MARK}`,
  '..',
  '.',
  '/',
  '../../etc/passwd',
  `$(touch /tmp/${MARK})`,
  `; touch /tmp/${MARK} #`,
  `\`touch /tmp/${MARK}\``,
  `|| touch /tmp/${MARK}`,
  `a\ntouch /tmp/${MARK}`,
  '%2e%2e%2f%2e%2e%2f',
  'ü',
  '🦄'.repeat(200),
  '\u202eevil',
  "' OR '1'='1",
  '<img src=x onerror=alert(1)>',
  '-1',
  'NaN',
  'null',
  '--help',
  '-rf',
  'Name With Spaces',
  'CON',
  '\\\\server\\share',
];
const OTHERS: unknown[] = [
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -1e308,
  1e308,
  null,
  true,
  false,
  [],
  [null],
  Array(5000).fill('x'),
  {},
  { $ne: null },
  JSON.parse('{"__proto__":{"polluted":true}}'),
];
const HOSTILE: unknown[] = [...STRINGS, ...OTHERS];

let srv: RunningServer;
let token: string;
let passwdHash: string;

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
  passwdHash = createHash('sha256').update(fs.readFileSync('/etc/passwd')).digest('hex');
  // Bare image names in pulls go to a port nothing listens on: refused at once, nothing leaves the host.
  const res = await fetch(`${srv.url}/api/settings`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ defaultRegistry: '127.0.0.1:9' }),
  });
  if (!res.ok) throw new Error(`settings: ${res.status}`);
}, 60_000);

afterAll(async () => {
  await tearDown(srv, undefined);
});

/** A plausible value of a schema's type that is not an enum member (so nothing real is started by accident). */
function plausible(s: Schema | undefined): unknown {
  switch (s?.type) {
    case 'string':
      return 'fuzz';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k) => [k, plausible(s.properties?.[k])]));
    default:
      return 'fuzz';
  }
}

function cases(op: Op): { path: string; body?: string }[] {
  const out: { path: string; body?: string }[] = [];
  const fill = (p: string, v = 'zz_aaaaaaaaaaaaaaaaaaaa') => p.replace(/\{[a-z]+\}/g, (m) => (m === '{action}' ? 'start' : encodeURIComponent(v)));
  const base = op.body ? plausible(op.body) : undefined;
  const json = (v: unknown) => JSON.stringify(v);
  if (op.body) {
    for (const whole of [
      'null',
      '[]',
      '"x"',
      '1e308',
      'true',
      '{',
      '',
      '{"a":',
      '['.repeat(5000) + ']'.repeat(5000),
      json(Array(10_000).fill({})),
      json({ x: 'y'.repeat(2_000_000) }),
    ])
      out.push({ path: fill(op.path), body: whole });
    for (const prop of Object.keys(op.body.properties ?? {})) {
      for (const v of HOSTILE) out.push({ path: fill(op.path), body: json({ ...(base as object), [prop]: v }) });
      // One level down too: array items and nested objects get the hostile strings.
      const inner = op.body.properties![prop];
      if (inner.type === 'array') for (const v of STRINGS) out.push({ path: fill(op.path), body: json({ ...(base as object), [prop]: [v] }) });
      if (inner.type === 'object' || inner.items?.type === 'object') {
        const obj = inner.type === 'object' ? inner : inner.items!;
        for (const k of Object.keys(obj.properties ?? {}))
          for (const v of HOSTILE) {
            const o = { ...(plausible(obj) as object), [k]: v };
            out.push({ path: fill(op.path), body: json({ ...(base as object), [prop]: inner.type === 'object' ? o : [o] }) });
          }
      }
    }
  }
  // Chains with hostile file steps: relative and traversing paths, hostile content and modes.
  if (op.path === '/api/steps/build') {
    for (const v of STRINGS) {
      out.push({ path: op.path, body: json({ chain: `busybox + file ${JSON.stringify(v)} x` }) });
      out.push({ path: op.path, body: json({ steps: [{ step: 'os.busybox' }, { step: 'file', args: { path: v, content: 'x' } }] }) });
      out.push({ path: op.path, body: json({ steps: [{ step: 'os.busybox' }, { step: 'file', args: { path: '/x', content: 'x', mode: v } }] }) });
      out.push({ path: op.path, body: json({ steps: [{ step: 'os.busybox' }, { step: v, words: [v] }] }) });
    }
  }
  for (let i = 0; i < op.params.length; i++)
    for (const v of STRINGS.filter((x) => x.length < 10_000)) out.push({ path: fill(op.path, v), ...(op.body ? { body: json(base) } : {}) });
  for (const q of op.query) for (const v of STRINGS) out.push({ path: `${fill(op.path)}?${q}=${encodeURIComponent(v)}` });
  return out;
}

describe('hostile input', () => {
  it('answers every hostile request with 2xx or a 4xx envelope, in time, and writes nothing outside the data dir', async () => {
    const spec = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
    };
    const ops: Op[] = Object.entries(spec.paths)
      .flatMap(([p, byMethod]) =>
        Object.entries(byMethod).map(([method, op]) => ({
          method,
          path: p,
          body: op.requestBody?.content['application/json']?.schema,
          params: (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name),
          query: (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name),
        })),
      )
      .filter((o) => o.path !== '/api/auth/logout');
    const all = ops.flatMap((op) => cases(op).map((c) => ({ op, ...c })));
    const problems: string[] = [];
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        const c = all[next++];
        try {
          const res = await fetch(`${srv.url}${c.path}`, {
            method: c.op.method.toUpperCase(),
            headers: { authorization: `Bearer ${token}`, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(c.body !== undefined && c.op.method !== 'get' ? { body: c.body } : {}),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          const what = `${c.op.method} ${c.path.slice(0, 120)} ${String(c.body).slice(0, 120)}`;
          if (res.status >= 500) problems.push(`${res.status} ${what}: ${text.slice(0, 200)}`);
          else if (res.status >= 400) {
            let ok = false;
            try {
              const e = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
              ok = typeof e.error?.code === 'string' && typeof e.error.message === 'string';
            } catch {
              ok = false;
            }
            if (!ok) problems.push(`${res.status} without the envelope: ${what}: ${text.slice(0, 200)}`);
          }
        } catch (err) {
          problems.push(`${c.op.method} ${c.path.slice(0, 120)}: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const seconds = (performance.now() - t0) / 1000;
    expect(problems.slice(0, 20)).toEqual([]);
    expect(all.length).toBeGreaterThan(2000);
    // "In time" is each request's own limit (15 s above: a hang is a problem listed); the whole run's time is only
    // reported, never asserted (134 s once beside the other lane's TCG boots, 60 s on a quieter host).
    console.log(`fuzz: ${all.length} requests over ${ops.length} operations in ${seconds.toFixed(1)} s`);
    // Still healthy, nothing escaped, nothing ran.
    expect((await fetch(`${srv.url}/api/health`)).status).toBe(200);
    for (const p of [`/tmp/${MARK}`, `/${MARK}`, path.resolve(srv.dataDir, '..', MARK), path.resolve(srv.dataDir, '..', '..', MARK)])
      expect(fs.existsSync(p), p).toBe(false);
    expect(fs.readdirSync('/tmp').filter((f) => f.includes(MARK))).toEqual([]);
    expect(createHash('sha256').update(fs.readFileSync('/etc/passwd')).digest('hex')).toBe(passwdHash);
  }, 240_000);
});
