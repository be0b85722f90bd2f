import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import type { AttachReply, ConsoleOutput, ConsoleViewers } from '@/lib/contracts/console';
import { isFinished } from '@/lib/contracts/jobs';
import type { MachineStatsTick } from '@/lib/contracts/stats';

export const ADMIN_PASSWORD = 'integration-admin-pw';
/** Shared by the test servers and the e2e server (playwright.config.ts). */
export const TEST_CACHE = path.join(os.tmpdir(), 'hangar-test-cache');
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningServer {
  url: string;
  dataDir: string;
  /** The harness made the data dir (not passed in): tearDown deletes it. */
  owned: boolean;
  proc: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The real built server (dist/server.js, as `./hangar up` runs it) on a random port with a
 * fresh data dir. The web UI is left out unless asked: these tests talk to the API and sockets.
 */
export async function startServer(
  opts: {
    dataDir?: string;
    /** Delete the data dir at tearDown; default: only when the harness made it. A restart passes the old server's `owned`. */
    ownDataDir?: boolean;
    ui?: boolean;
    env?: Record<string, string>;
    /** Node's own flags, e.g. --cpu-prof (a bench's profile). */ nodeArgs?: string[];
    /** More server flags (--host, --tls-cert ...). */
    args?: string[];
    /** An argv prefix the server runs under: `nsenter --net=...` (a node in a network namespace of its own, netns.ts). */
    enter?: string[];
  } = {},
): Promise<RunningServer> {
  const entry = path.join(root, 'dist', 'server.js');
  if (!fs.existsSync(entry)) throw new Error('dist/server.js is missing: run `npm run build` (./hangar test does).');
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-it-'));
  const args = [...(opts.nodeArgs ?? []), entry, '--port', '0', '--data', dataDir, ...(opts.ui ? [] : ['--no-ui']), ...(opts.args ?? [])];
  const [cmd, ...pre] = opts.enter?.length ? [...opts.enter, process.execPath] : [process.execPath];
  const proc = spawn(cmd, [...pre, ...args], {
    cwd: root,
    // One download cache for every test server (Debian packages, guest kernels): each would fetch the same again.
    env: {
      ...process.env,
      HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DATABASE_URL: '',
      HANGAR_CACHE: TEST_CACHE,
      // debian-12 built once per run and copied by the next server that needs it (debian.int.test.ts turns it off: it tests the build).
      HANGAR_TEST_IMAGE_CACHE: path.join(TEST_CACHE, 'built-images'),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b) => (out += b));
  proc.stderr!.on('data', (b) => (out += b));
  // HANGAR_SERVER_STDERR=1: see the server's own diagnostics while a test or bench runs.
  if (process.env.HANGAR_SERVER_STDERR) proc.stderr!.pipe(process.stderr);
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = out.match(/listening on (https?:\/\/\S+)/);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  }).catch(async (err: unknown) => {
    // Not started: no server is left running, nor the data dir made for it (no test has it to tear down).
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      if (proc.kill('SIGKILL')) await exited;
    }
    if (!opts.dataDir && !process.env.HANGAR_KEEP_TEST_DATA) removeDataDir(dataDir);
    throw err;
  });
  const owned = opts.ownDataDir ?? !opts.dataDir;
  let stopping = false;
  // A server that dies on its own must say why in the test output.
  proc.once('exit', (code, signal) => {
    if (!stopping) console.error(`hangar server exited unexpectedly (${code ?? signal}):\n${out.slice(-6000)}`);
  });
  return {
    url,
    dataDir,
    owned,
    proc,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        stopping = true;
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      }),
  };
}

/** Log in as a browser would (cookie + Origin) and return the cookie. */
export async function loginCookie(url: string, username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie')!.split(';')[0];
}

/** An API token for the admin, made through the API with a cookie session. */
export async function adminToken(url: string, role: 'viewer' | 'operator' | 'admin' = 'admin'): Promise<string> {
  const cookie = await loginCookie(url);
  const res = await fetch(`${url}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url, cookie },
    body: JSON.stringify({ name: `it-${role}`, role }),
  });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).secret;
}

/**
 * A busybox guest's shell counting in /tmp/counter about 10 times a second, in the background, for snapshot tests (the count
 * goes back on a restore, on from the snapshot in a fork). It waits on a FIFO nobody writes (`read -t`) rather than `sleep`:
 * no process made per tick, which cost each guest carrying it, and every fork and restore of it, a share of a TCG core.
 */
export const COUNTER =
  'mkfifo /tmp/tick; exec 3<>/tmp/tick; i=0; (while true; do i=$((i+1)); echo $i > /tmp/counter; read -t 0.1 x <&3; done) >/dev/null 2>&1 & true';

export function client(url: string, token: string): ApiClient {
  return createApiClient({ baseUrl: url, token });
}

export function socket(url: string, nsp: '/events' | '/console', auth: { token?: string; cookie?: string; origin?: string; share?: string }): Socket {
  return io(`${url}${nsp}`, {
    transports: ['websocket'],
    auth: auth.share ? { share: auth.share } : auth.token ? { token: auth.token } : {},
    extraHeaders: { ...(auth.cookie ? { cookie: auth.cookie } : {}), ...(auth.origin ? { origin: auth.origin } : {}) },
    reconnection: false,
    forceNew: true,
  });
}

export function connected(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(e));
  });
}

/**
 * Resolve when `pred` holds, polling; fail with `what` after `ms`. Every `everyMs` when given; otherwise every 25 ms for
 * the first second, then less often, up to every 250 ms: a job or a boot waited on for minutes (a debootstrap, a TCG
 * guest) asked 40 times a second, each time a request and its check against the API document, on the cores it waits for.
 */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 15_000, everyMs?: number): Promise<NonNullable<T>> {
  const start = Date.now();
  const end = start + ms;
  let every = everyMs ?? 25;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
    if (everyMs === undefined && Date.now() - start > 1000) every = Math.min(250, Math.round(every * 1.5));
  }
}

/**
 * A streamed exec (`POST /machines/{ref}/exec/stream`) whose caller goes away once `seen` is in its
 * output: what a command of a client that was killed looks like to the server.
 */
export async function execThenLeave(url: string, token: string, machine: string, argv: string[], seen = 'started', thenMs = 0): Promise<void> {
  const gone = new AbortController();
  const res = await fetch(`${url}/api/machines/${encodeURIComponent(machine)}/exec/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ argv }),
    signal: gone.signal,
  });
  const reader = res.body!.getReader();
  for (let out = ''; !out.includes(seen);) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The command's output ended before "${seen}": ${out}`);
    out += new TextDecoder().decode(value);
  }
  await new Promise((r) => setTimeout(r, thenMs));
  gone.abort();
}

/** Poll a job until it finishes; returns it in its final state (succeeded or not). */
export async function jobDone(api: ApiClient, job: { id: string; title: string }, ms = 120_000) {
  return until(
    async () => {
      const j = await api.jobs.get(job.id);
      return isFinished(j.state) ? j : null;
    },
    `job ${job.title}`,
    ms,
  );
}

/**
 * A machine's serial (or container) console over /console: the text so far (replay first),
 * typing, and waiting for output. The socket is pushed to `sockets` for the caller to close.
 */
export async function serialConsole(
  url: string,
  auth: string | { share: string },
  machineId: string,
  sessionId: string,
  sockets: Socket[],
  channel: 'serial' | 'ssh' = 'serial',
) {
  const s = socket(url, '/console', typeof auth === 'string' ? { token: auth } : auth);
  sockets.push(s);
  await connected(s);
  let text = '';
  // Who watches, as last announced (the first announcement comes with the attach itself).
  let presence: ConsoleViewers | null = null;
  s.on('viewers', (m: ConsoleViewers) => (presence = m));
  s.on('output', (m: ConsoleOutput, ack: () => void) => {
    text += m.data;
    ack();
  });
  const reply = await new Promise<AttachReply>((resolve) => s.emit('attach', { sessionId, target: { kind: 'machine', machineId, channel } }, resolve));
  if (reply.ok) text = reply.replay + text;
  return {
    s,
    reply,
    text: () => text,
    presence: () => presence,
    type: (d: string) => s.emit('input', { sessionId, data: d }),
    waitFor: (n: string) => until(() => text.includes(n), `console output ${n}`, 30_000),
  };
}

/**
 * Resolve with the first `stats:machines` item of machine `id` that satisfies `pred`, as the
 * /events socket `s` receives them (every 2 s while someone is connected).
 */
export function statsWhere(
  s: Socket,
  id: string,
  pred: (x: MachineStatsTick['items'][number]) => boolean,
  what: string,
  ms = 30_000,
): Promise<MachineStatsTick['items'][number]> {
  return new Promise((resolve, reject) => {
    const seen: unknown[] = [];
    const t = setTimeout(() => {
      s.off('stats:machines', on);
      reject(new Error(`timed out waiting for ${what}; last samples: ${JSON.stringify(seen.slice(-3))}`));
    }, ms);
    const on = (tick: MachineStatsTick) => {
      const item = tick.items.find((x) => x.id === id);
      if (!item) return;
      seen.push(item);
      if (!pred(item)) return;
      clearTimeout(t);
      s.off('stats:machines', on);
      resolve(item);
    };
    s.on('stats:machines', on);
  });
}

/**
 * After a test file: close its sockets, destroy every machine it left (machines outlive the
 * server by design, so a stopped test server would leave their processes running), stop it,
 * and delete the data dir it made (HANGAR_KEEP_TEST_DATA=1 keeps it for a post-mortem).
 */
export async function tearDown(srv: RunningServer | undefined, api: ApiClient | undefined, sockets: Socket[] = []): Promise<void> {
  for (const s of sockets) s.disconnect();
  if (api) await destroyAll(api).catch(() => undefined);
  await srv?.stop();
  // A data dir holds about a gigabyte (images, containers-storage with its overlay mount): a
  // full integration run would fill /tmp if each were left behind.
  if (srv?.owned && !process.env.HANGAR_KEEP_TEST_DATA) removeDataDir(srv.dataDir);
}

/**
 * Every machine the server lists destroyed, one after another, each job awaited. A failed destroy
 * does not stop the others: what failed is returned. One already gone (404) is not a failure.
 */
export async function destroyAll(api: ApiClient, timeoutMs = 120_000): Promise<string[]> {
  const failed: string[] = [];
  for (const m of (await api.machines.list()).items) {
    try {
      const j = await jobDone(api, await api.machines.destroy(m.id), timeoutMs);
      if (j.state !== 'succeeded') failed.push(`${m.name}: ${j.error}`);
    } catch (err) {
      if ((err as { status?: number }).status !== 404) failed.push(`${m.name}: ${(err as Error).message}`);
    }
  }
  return failed;
}

/** Deletes a test data dir with whatever is mounted beneath it (scripts/remove-tree.mjs). */
export function removeDataDir(dir: string): void {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'remove-tree.mjs'), dir], { encoding: 'utf8' });
  if (r.status !== 0) console.error(`could not remove ${dir}: ${r.stderr}`);
  // What it had to kill (a machine or standby a test left running) is told, so the file that left it can be found.
  else if (r.stderr.trim()) console.error(r.stderr.trim());
}

/** A fresh server, an admin token and client, and the busybox image built (where most machine tests start). */
export async function serverWithBusybox(opts: Parameters<typeof startServer>[0] = {}): Promise<{ srv: RunningServer; token: string; api: ApiClient }> {
  const srv = await startServer(opts);
  const token = await adminToken(srv.url);
  const api = client(srv.url, token);
  const built = await jobDone(api, await api.images.build({ kind: 'busybox' }), 240_000);
  if (built.state !== 'succeeded') throw new Error(`the busybox image did not build: ${built.error}`);
  return { srv, token, api };
}
