import http from 'node:http';
import { client, connected, socket, until } from '@/server/integration/harness';
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
 * Console relays, snapshot copies and moves are later steps of issue 21: not measured yet.
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
      not_measured_yet: ['console_echo_p99_forwarded_ms', 'remote_fork_s', 'move_downtime_ms', 'move_total_s'],
    };
  } finally {
    agent.destroy();
    await nodes?.stop();
    await pg.stop();
  }
}
