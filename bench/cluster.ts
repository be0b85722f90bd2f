import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import nodePath from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import { importBusyboxRootfs } from '@/server/integration/busybox-tree';
import { client, connected, jobDone, socket, until } from '@/server/integration/harness';
import { startTwoNodes, type TwoNodes } from '@/server/integration/two-nodes';
import { startPostgres } from '@/server/integration/postgres';
import { sequentialGets } from './sequential';
import { percentile, round } from './stats';

const REQUESTS = 1000;
const WARMUP = 100;
const EVENTS = 40;

/**
 * Two nodes on one PostgreSQL (a throwaway server, as the integration tier starts it), A the
 * founder and B joined with a token, in one process tree on this host. A job runs on B (the demo
 * job: a progress event every 100 ms). Figures, each against its baseline in the same run:
 * - the same request (its log, `GET /api/jobs/{id}/logs`, which its node answers) sent to B
 *   directly and to A, which forwards it signed to B; 1,000 of each, interleaved in halves;
 * - the same `job:update` events seen by a socket on B (the node that emits them) and by one on
 *   A (through PostgreSQL's NOTIFY and the adapter): the arrival gap per event.
 * - a fork on B of a snapshot A holds (an nspawn container of a busybox root filesystem with 512
 *   MiB of random data, so that its archive is 512 MiB): the job's time from the request to the
 *   fork running, the copy A -> B included (`remote_fork_s`), against the same fork on A
 *   (`local_fork_s`) and a second fork on B, which uses the replica (`replica_fork_s`).
 * Console relays and moves are later steps of issue 21: not measured yet.
 */
export async function run() {
  const pg = await startPostgres();
  let nodes: TwoNodes | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    nodes = await startTwoNodes(pg.url);
    const { a, b, token } = nodes;
    const apiB = client(b.url, token);

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
      ...forks,
      not_measured_yet: ['console_echo_p99_forwarded_ms', 'move_downtime_ms', 'move_total_s'],
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
  const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'hangar-bench-replica-'));
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
