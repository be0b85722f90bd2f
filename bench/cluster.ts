import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { AttachReply, ConsoleOutput } from '@/lib/contracts/console';
import type { MoveResult } from '@/lib/contracts/moves';
import { importBusyboxRootfs } from '@/server/integration/busybox-tree';
import { client, connected, jobDone, socket, until } from '@/server/integration/harness';
import { startTwoNodes, type TwoNodes } from '@/server/integration/two-nodes';
import { startPostgres } from '@/server/integration/postgres';
import { sequentialGets } from './sequential';
import { percentile, round } from './stats';

const REQUESTS = 1000;
const WARMUP = 100;
const EVENTS = 40;
const ECHOES = 1000;
const ECHO_WARMUP = 100;
/** Keys typed between newlines: the line the tty keeps stays short. */
const LINE = 64;

/** A shell of a container on B, attached through the node `url` (B itself, or A relaying it); one key typed at a time. */
async function typist(url: string, token: string, machineId: string, sessionId: string) {
  const s: Socket = socket(url, '/console', { token });
  await connected(s);
  let seen = '';
  let waiter: { needle: string; resolve: () => void } | null = null;
  s.on('output', (m: ConsoleOutput, ack: () => void) => {
    ack();
    seen = (seen + m.data).slice(-4096);
    if (waiter && seen.includes(waiter.needle)) {
      const w = waiter;
      waiter = null;
      w.resolve();
    }
  });
  const reply = await new Promise<AttachReply>((r) => s.emit('attach', { sessionId, target: { kind: 'machine', machineId, channel: 'ssh' } }, r));
  if (!reply.ok) throw new Error(`attach through ${url}: ${reply.error.message}`);
  const waitFor = (needle: string) =>
    new Promise<void>((resolve) => {
      if (seen.includes(needle)) return resolve();
      waiter = { needle, resolve };
    });
  const type = (d: string) => s.emit('input', { sessionId, data: d });
  // `cat` reads lines the tty echoes key by key (canonical mode, echo on): the echo is the tty's, the shell is out of the way.
  type('echo READY-$((6*7)); exec cat >/dev/null\n');
  await waitFor('READY-42');
  let typed = 0;
  /** One key typed and its echo seen, in ms. */
  const echo = async (): Promise<number> => {
    if (++typed % LINE === 0) {
      seen = '';
      type('\n');
      await waitFor('\n');
    }
    seen = '';
    const ch = String.fromCharCode(97 + (typed % 26));
    const t = performance.now();
    type(ch);
    await waitFor(ch);
    return performance.now() - t;
  };
  return { echo, close: () => s.close() };
}

/** Keys typed on B's container directly and through A, in interleaved blocks, after a warm-up of each. */
async function consoleEcho(nodes: TwoNodes, apiB: ApiClient) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-cluster-'));
  try {
    await importBusyboxRootfs(apiB, tmp, 'bb-echo', ['sh', 'cat', 'echo', 'sleep']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const made = await jobDone(
    nodes.api,
    await nodes.api.machines.create({ name: 'echo-ct', image: 'bb-echo', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '1000000'] }),
    120_000,
  );
  if (made.error) throw new Error(`echo-ct: ${made.error}`);
  const id = (await apiB.machines.get('echo-ct')).id;
  const direct = await typist(nodes.b.url, nodes.token, id, 'bench-echo-direct');
  const forwarded = await typist(nodes.a.url, nodes.token, id, 'bench-echo-forwarded');
  const d: number[] = [];
  const f: number[] = [];
  try {
    for (let i = 0; i < ECHO_WARMUP; i++) {
      await direct.echo();
      await forwarded.echo();
    }
    for (let block = 0; block < 4; block++) {
      for (let i = 0; i < ECHOES / 4; i++) d.push(await direct.echo());
      for (let i = 0; i < ECHOES / 4; i++) f.push(await forwarded.echo());
    }
  } finally {
    direct.close();
    forwarded.close();
    await jobDone(nodes.api, await nodes.api.machines.destroy('echo-ct'), 120_000).catch(() => undefined);
  }
  return { direct: d, forwarded: f };
}

/**
 * Two nodes on one PostgreSQL (a throwaway server, as the integration tier starts it), A the
 * founder and B joined with a token, in one process tree on this host. A job runs on B (the demo
 * job: a progress event every 100 ms). Figures, each against its baseline in the same run:
 * - the same request (its log, `GET /api/jobs/{id}/logs`, which its node answers) sent to B
 *   directly and to A, which forwards it signed to B; 1,000 of each, interleaved in halves;
 * - the same `job:update` events seen by a socket on B (the node that emits them) and by one on
 *   A (through PostgreSQL's NOTIFY and the adapter): the arrival gap per event.
 * - keys typed one at a time into a shell of a container on B (a busybox nspawn container, its
 *   tty echoing them) from a socket on B and from one on A, which relays the console to B:
 *   each key's echo, 1,000 of each in interleaved blocks.
 * - a fork on B of a snapshot A holds (an nspawn container of a busybox root filesystem with 512
 *   MiB of random data, so that its archive is 512 MiB): the job's time from the request to the
 *   fork running, the copy A -> B included (`remote_fork_s`), against the same fork on A
 *   (`local_fork_s`) and a second fork on B, which uses the replica (`replica_fork_s`).
 * - live moves of a running busybox VM (512 MiB, TCG) between A and B, there and back three
 *   times: the guest's stop at the switch as QEMU measured it (`move_downtime_ms`, the median) and
 *   the job's time from the request to the machine running on the other node (`move_total_s`).
 */
export async function run() {
  const pg = await startPostgres();
  let nodes: TwoNodes | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    nodes = await startTwoNodes(pg.url);
    const { a, b, token } = nodes;
    const apiB = client(b.url, token);
    const loadBefore = os.loadavg()[0];
    const echo = await consoleEcho(nodes, apiB);

    // Events: both sockets hear the same job's progress; B's is where they are made.
    const onA = socket(a.url, '/events', { token });
    const onB = socket(b.url, '/events', { token });
    await Promise.all([connected(onA), connected(onB)]);
    const seenA = new Map<string, number>();
    const seenB = new Map<string, number>();
    const key = (j: { id: string; progress: number; state: string }) => `${j.id}:${j.progress}:${j.state}`;
    onA.on('job:update', (j) => seenA.set(key(j), performance.now()));
    onB.on('job:update', (j) => seenB.set(key(j), performance.now()));
    // Both nodes must have heard each other's adapter before events cross (its heartbeat, at start).
    await new Promise((r) => setTimeout(r, 1000));
    const events = await apiB.jobs.demo({ seconds: EVENTS / 10, steps: EVENTS });
    await until(async () => ((await apiB.jobs.get(events.id)).state === 'succeeded' ? true : null), 'the demo job', 60_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    const gaps = [...seenB].filter(([k]) => seenA.has(k)).map(([k, t]) => seenA.get(k)! - t);
    onA.close();
    onB.close();

    // Forwarding: a long job on B, its log asked of B and of A.
    const job = await apiB.jobs.demo({ seconds: 600, steps: 100 });
    const path = `/api/jobs/${job.id}/logs`;
    await sequentialGets(b.url + path, token, agent, WARMUP);
    await sequentialGets(a.url + path, token, agent, WARMUP);
    const direct: number[] = [];
    const forwarded: number[] = [];
    for (let half = 0; half < 2; half++) {
      direct.push(...(await sequentialGets(b.url + path, token, agent, REQUESTS / 2)));
      forwarded.push(...(await sequentialGets(a.url + path, token, agent, REQUESTS / 2)));
    }
    await apiB.jobs.cancel(job.id);
    const forks = await remoteFork(nodes);
    const moves = await liveMoves(nodes);
    const p = (v: number[], q: number) => round(percentile(v, q), 3);
    return {
      direct_api_p50_ms: p(direct, 50),
      forward_api_p50_ms: p(forwarded, 50),
      forward_added_p50_ms: round(p(forwarded, 50) - p(direct, 50), 3),
      direct_api_p99_ms: p(direct, 99),
      forward_api_p99_ms: p(forwarded, 99),
      events_compared: gaps.length,
      event_cross_node_added_p50_ms: gaps.length ? p(gaps, 50) : null,
      event_cross_node_added_p99_ms: gaps.length ? p(gaps, 99) : null,
      console_echo_p50_direct_ms: p(echo.direct, 50),
      console_echo_p50_forwarded_ms: p(echo.forwarded, 50),
      console_echo_p99_direct_ms: p(echo.direct, 99),
      console_echo_p99_forwarded_ms: p(echo.forwarded, 99),
      console_echo_added_p50_ms: round(p(echo.forwarded, 50) - p(echo.direct, 50), 3),
      console_echo_p99_ratio: round(p(echo.forwarded, 99) / p(echo.direct, 99), 2),
      console_echoes: echo.direct.length,
      load_avg_1m: [round(loadBefore, 1), round(os.loadavg()[0], 1)],
      ...forks,
      ...moves,
    };
  } finally {
    agent.destroy();
    await nodes?.stop();
    await pg.stop();
  }
}

const BLOB_MIB = 512;

/** Seconds from the request to the job's end (its forks running). */
async function timedFork(api: ApiClient, snap: string, body: { names: string[]; node?: string }): Promise<{ s: number; log: string }> {
  const t0 = performance.now();
  const job = await jobDone(api, await api.snapshots.fork(snap, body), 900_000);
  const s = (performance.now() - t0) / 1000;
  if (job.state !== 'succeeded') throw new Error(`${job.title}: ${job.error}`);
  return { s, log: (await api.jobs.logs(job.id)).items.map((l) => l.line).join('\n') };
}

async function remoteFork(nodes: TwoNodes) {
  const { api } = nodes;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-replica-'));
  try {
    await importBusyboxRootfs(api, tmp, 'bb-bench');
    const made = await jobDone(
      api,
      await api.machines.create({ name: 'bench-src', image: 'bb-bench', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] }),
      300_000,
    );
    if (made.state !== 'succeeded') throw new Error(`bench-src: ${made.error}`);
    await api.machines.exec('bench-src', ['/bin/busybox', 'dd', 'if=/dev/urandom', 'of=/root/blob', 'bs=1M', `count=${BLOB_MIB}`]);
    await api.machines.exec('bench-src', ['/bin/busybox', 'sync']);
    const point = await jobDone(api, await api.snapshots.checkpoint('bench-src', 'bench-point'), 600_000);
    if (point.state !== 'succeeded') throw new Error(`checkpoint: ${point.error}`);
    const snap = (point.result as { snapshot: string }).snapshot;
    const local = await timedFork(api, snap, { names: ['bench-local'] });
    const remote = await timedFork(api, snap, { names: ['bench-remote'], node: 'b' });
    const again = await timedFork(api, snap, { names: ['bench-again'], node: 'b' });
    const got = remote.log.match(/received ([\d.]+) MiB in ([\d.]+) s/);
    for (const m of ['bench-local', 'bench-remote', 'bench-again', 'bench-src']) await jobDone(api, await api.machines.destroy(m), 300_000);
    await api.snapshots.remove(snap);
    return {
      fork_snapshot_mib: BLOB_MIB,
      local_fork_s: round(local.s, 2),
      remote_fork_s: round(remote.s, 2),
      replica_transfer_mib: got ? Number(got[1]) : null,
      replica_transfer_s: got ? Number(got[2]) : null,
      replica_fork_s: round(again.s, 2),
      replica_reused: /already on node b: no transfer/.test(again.log),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const MOVE_MIB = 512;
const MOVES = 3;

/** A running busybox VM moved live A -> B -> A ...: QEMU's downtime of each, and each job's time from the request to its end. */
async function liveMoves(nodes: TwoNodes) {
  const { api } = nodes;
  const built = await jobDone(api, await api.images.build({ kind: 'busybox' }), 600_000);
  if (built.state !== 'succeeded' && !/already built/.test(built.error ?? '')) throw new Error(`busybox: ${built.error}`);
  const made = await jobDone(api, await api.machines.create({ name: 'bench-mv', image: 'busybox', memoryMib: MOVE_MIB, node: 'a' }), 300_000);
  if (made.state !== 'succeeded') throw new Error(`bench-mv: ${made.error}`);
  await until(async () => (await api.machines.exec('bench-mv', ['true']).catch(() => null)) ?? null, 'bench-mv answers', 120_000, 500);
  const downtimes: number[] = [];
  const totals: number[] = [];
  try {
    for (let i = 0; i < MOVES; i++) {
      const t0 = performance.now();
      const job = await jobDone(api, await api.machines.move('bench-mv', { node: i % 2 === 0 ? 'b' : 'a' }), 600_000);
      totals.push((performance.now() - t0) / 1000);
      if (job.state !== 'succeeded') throw new Error(`${job.title}: ${job.error}`);
      downtimes.push((job.result as MoveResult).downtimeMs ?? NaN);
      await api.machines.exec('bench-mv', ['true']);
    }
  } finally {
    await jobDone(api, await api.machines.destroy('bench-mv'), 300_000);
  }
  return {
    move_guest_mib: MOVE_MIB,
    move_downtime_ms: percentile(downtimes, 50),
    move_downtimes_ms: downtimes,
    move_total_s: round(percentile(totals, 50), 2),
    move_totals_s: totals.map((t) => round(t, 2)),
  };
}
