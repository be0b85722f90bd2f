import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { ADMIN_PASSWORD, adminToken, startServer } from '@/server/integration/harness';
import { bareConsole, echoProbe } from './echo-probe-client';
import { seededDataDir } from './seed';
import { percentile, round } from './stats';

const MACHINES = 1000;
const CONCURRENCY = 200;
const REQUESTS = 4000;
const PAGE = 50;

/** `total` requests, `concurrency` at a time (a bounded loop on loopback, or until `until` says stop): requests per second and latency percentiles. */
async function load(total: number, concurrency: number, one: () => Promise<Response>, ok = (r: Response) => r.ok, until?: () => boolean) {
  const times: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (until ? !until() : next++ < total) {
        const s = performance.now();
        const r = await one();
        await r.arrayBuffer();
        if (!ok(r)) failed++;
        times.push(performance.now() - s);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { rps: round(times.length / s, 0), p50_ms: round(percentile(times, 50), 1), p99_ms: round(percentile(times, 99), 1), failed, n: times.length };
}

/**
 * The same load through undici's request API instead of fetch: a lighter client (no WHATWG
 * streams), so on these 2 cores more of the CPU is left to the server. Bodies are read and a
 * gzip one inflated, as fetch does.
 */
function leanClient(base: string, headers: Record<string, string>) {
  const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const get = async (p: string) => {
    const r = await request(`${base}${p}`, { dispatcher, headers: { ...headers, 'accept-encoding': 'gzip' } });
    const body = Buffer.from(await r.body.arrayBuffer());
    if (r.headers['content-encoding'] === 'gzip') zlib.gunzipSync(body);
    return new Response(null, { status: r.statusCode });
  };
  return { get, close: () => dispatcher.close() };
}

/** The body's size as sent (node:http does not decompress, as fetch does). */
function bytesOnTheWire(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let n = 0;
        res.on('data', (b: Buffer) => (n += b.length));
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

/**
 * The API under load: 1,000 machines in the database, 200 requests in flight at once (client and
 * server on this 2-core host). The whole list (and a console's echo while it is fetched), pages
 * of 50, one machine, the list revalidated with If-None-Match (304), and logins (scrypt) at a
 * lower concurrency. The machines are written straight into a fresh data dir's SQLite before
 * the server starts (records only: stopped machines, no VM behind them). Node's fetch asks for
 * gzip, so the list travels compressed. HANGAR_BENCH_CPU_PROF=DIR: the server writes a CPU
 * profile there (node --cpu-prof) when it stops.
 */
export async function run() {
  const dataDir = await seededDataDir(MACHINES, 'load');
  const prof = process.env.HANGAR_BENCH_CPU_PROF;
  const srv = await startServer({ dataDir, nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] : [] });
  try {
    const token = await adminToken(srv.url);
    const auth = { authorization: `Bearer ${token}` };
    const get = (p: string, headers: Record<string, string> = {}) => fetch(`${srv.url}${p}`, { headers: { ...auth, ...headers } });
    const first = await get('/api/machines');
    const raw = await first.text();
    if ((JSON.parse(raw) as { items: unknown[] }).items.length !== MACHINES) throw new Error(`expected ${MACHINES} machines`);
    const etag = first.headers.get('etag');
    const gzipped = await bytesOnTheWire(`${srv.url}/api/machines`, { ...auth, 'accept-encoding': 'gzip' });
    await load(400, 50, () => get('/api/machines')); // warm-up

    const list = await load(REQUESTS, CONCURRENCY, () => get('/api/machines'));
    // The same uncompressed: what the server sends without the client's inflating (undici's, through web streams, is slow).
    const plain = await load(REQUESTS, CONCURRENCY, () => get('/api/machines', { 'accept-encoding': 'identity' }));

    // A console's echo, idle, then while the whole list is fetched 200 at a time (the heaviest answer).
    const settings = await fetch(`${srv.url}/api/settings`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ consoleHostShell: true }),
    });
    if (!settings.ok) throw new Error(`settings: ${settings.status}`);
    const idle = await (await echoProbe(srv.url, token)).go();
    /** The echo probe's figures while `one` is asked CONCURRENCY at a time, and that load's. */
    const echoUnder = async (url: string, one: () => Promise<Response>, nice?: number) => {
      const probe = await echoProbe(url, token);
      let probing = true;
      // `nice`: the load generator's main thread at that priority (where its requests are made; fetch's pool threads keep theirs).
      const was = os.getPriority();
      if (nice !== undefined) os.setPriority(nice);
      try {
        return await Promise.all([probe.go().finally(() => (probing = false)), load(0, CONCURRENCY, one, undefined, () => !probing)]);
      } finally {
        if (nice !== undefined) os.setPriority(was);
      }
    };
    const [underLoad, during] = await echoUnder(srv.url, () => get('/api/machines'));
    // The same through undici: a lighter client, so the server answers several times more lists a second.
    const leanList = leanClient(srv.url, auth);
    const [underLean, duringLean] = await echoUnder(srv.url, () => leanList.get('/api/machines'));
    // The floor: a bare console in a process of its own, its echo under the same two loads on Hangar.
    const bare = await bareConsole();
    const [floor] = await echoUnder(bare.url, () => get('/api/machines'));
    const [floorLean] = await echoUnder(bare.url, () => leanList.get('/api/machines'));
    // The load's clients niced (19), as if they ran on other machines: the server, the probe and the shell keep the CPU
    // they need. Only as root, which may raise the priority back afterwards.
    const niced = async (url: string, one: () => Promise<Response>) => (process.getuid?.() === 0 ? (await echoUnder(url, one, 19))[0].p99_ms : null);
    const underNiced = await niced(srv.url, () => get('/api/machines'));
    const underNicedLean = await niced(srv.url, () => leanList.get('/api/machines'));
    const floorNiced = await niced(bare.url, () => get('/api/machines'));
    const floorNicedLean = await niced(bare.url, () => leanList.get('/api/machines'));
    await bare.stop();
    await leanList.close();

    // Pages of 50: the cursors of every page, then pages picked at random.
    const cursors: (string | null)[] = [null];
    for (let c: string | null = null; ;) {
      const page = (await (await get(`/api/machines?limit=${PAGE}${c ? `&cursor=${c}` : ''}`)).json()) as { next: string | null };
      if (!page.next) break;
      cursors.push((c = page.next));
    }
    const pageUrl = () => {
      const c = cursors[Math.floor(Math.random() * cursors.length)];
      return `/api/machines?limit=${PAGE}${c ? `&cursor=${c}` : ''}`;
    };
    const pages = await load(REQUESTS, CONCURRENCY, () => get(pageUrl()));
    const one = await load(REQUESTS, CONCURRENCY, () => get('/api/machines/load-500'));
    const lean = leanClient(srv.url, auth);
    const pagesLean = await load(REQUESTS, CONCURRENCY, () => lean.get(pageUrl()));
    const oneLean = await load(REQUESTS, CONCURRENCY, () => lean.get('/api/machines/load-500'));
    await lean.close();
    // Revalidation as a polling dashboard does it: a few at a time, the list unchanged.
    const notModified = await load(
      2000,
      10,
      () => get('/api/machines', { 'if-none-match': etag ?? '' }),
      (r) => r.status === 304,
    );
    const login = await load(100, 10, () =>
      fetch(`${srv.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      }),
    );
    return {
      rps: list.rps,
      p99_ms: list.p99_ms,
      p50_ms: list.p50_ms,
      machines: MACHINES,
      concurrency: CONCURRENCY,
      requests: REQUESTS,
      failed:
        list.failed +
        plain.failed +
        one.failed +
        login.failed +
        pages.failed +
        notModified.failed +
        during.failed +
        duringLean.failed +
        pagesLean.failed +
        oneLean.failed,
      one_machine_rps: one.rps,
      one_machine_p99_ms: one.p99_ms,
      login_rps: login.rps,
      login_p99_ms: login.p99_ms,
      response_kb: round(raw.length / 1024, 0),
      response_gzip_kb: round(gzipped / 1024, 0),
      full_list_p99_ms: list.p99_ms,
      full_list_identity_rps: plain.rps,
      full_list_identity_p99_ms: plain.p99_ms,
      page_p99_ms: pages.p99_ms,
      page_p50_ms: pages.p50_ms,
      page_rps: pages.rps,
      page_p99_ms_undici: pagesLean.p99_ms,
      page_rps_undici: pagesLean.rps,
      one_machine_rps_undici: oneLean.rps,
      one_machine_p99_ms_undici: oneLean.p99_ms,
      list_304_p50_ms: notModified.p50_ms,
      list_304_p99_ms: notModified.p99_ms,
      echo_p99_idle_ms: idle.p99_ms,
      echo_p50_idle_ms: idle.p50_ms,
      echo_p99_under_load_ms: underLoad.p99_ms,
      echo_p50_under_load_ms: underLoad.p50_ms,
      echo_max_under_load_ms: underLoad.max_ms,
      list_rps_during_echo: during.rps,
      echo_p99_under_load_ms_undici: underLean.p99_ms,
      echo_p50_under_load_ms_undici: underLean.p50_ms,
      echo_max_under_load_ms_undici: underLean.max_ms,
      list_rps_during_echo_undici: duringLean.rps,
      echo_floor_p99_under_load_ms: floor.p99_ms,
      echo_p99_under_niced_load_ms: underNiced,
      echo_p99_under_niced_load_ms_undici: underNicedLean,
      echo_floor_p99_under_niced_load_ms: floorNiced,
      echo_floor_p99_under_niced_load_ms_undici: floorNicedLean,
      echo_floor_p99_under_load_ms_undici: floorLean.p99_ms,
      echo_under_load_vs_floor_p99: round(underLoad.p99_ms / floor.p99_ms, 2),
      echo_under_load_vs_floor_p99_undici: round(underLean.p99_ms / floorLean.p99_ms, 2),
      note:
        'GET /api/machines (all 1,000, admin token, gzip; identity: uncompressed) with 200 requests in flight; page: ?limit=50 at a random cursor, 200 in ' +
        'flight; one_machine: GET /api/machines/NAME, 200 in flight; list_304: If-None-Match with the current ETag, 10 in flight; ' +
        'echo: one character typed into the host shell console (raw pty, dd) and timed until it comes back, from a process of ' +
        'its own, 300 samples 10 ms apart, idle and while the whole list is fetched 200 at a time (by fetch, and by undici: *_undici); ' +
        'echo_floor: the same probe and loads against a bare console (bench/bare-console.ts: socket.io and a pty, nothing else) ' +
        'in a process of its own, what any console gets on this host under that load; *_niced_*: the same with the load generator at nice 19 ' +
        '(as root), as if its clients ran on other machines; ' +
        'login: POST /api/auth/login (scrypt) 10 at a time. Client and server share the 2 cores. *_undici: the same pages and machine through undici.request ' +
        '(a lighter client than fetch; gzip bodies inflated).',
    };
  } finally {
    await srv.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
