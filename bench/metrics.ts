import { adminToken, removeDataDir, startServer } from '@/server/integration/harness';
import { seededDataDir } from './seed';
import { percentile, round } from './stats';

const MACHINES = 200;
const SCRAPES = 60;

/** `n` requests one after another (as Prometheus scrapes): their latencies, and the body of the last. */
async function timed(n: number, one: () => Promise<Response>) {
  const times: number[] = [];
  let body = '';
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await one();
    body = await r.text();
    if (!r.ok) throw new Error(`HTTP ${r.status}: ${body.slice(0, 200)}`);
    times.push(performance.now() - t0);
  }
  return { p50: round(percentile(times, 50), 1), p95: round(percentile(times, 95), 1), max: round(Math.max(...times), 1), body };
}

/**
 * GET /metrics with 200 machines: their records written into a fresh data dir's SQLite before the
 * server starts (stopped machines, tagged; no VM behind them: a stopped machine's series are its
 * state, resources and labels, the same per machine as for a running one but without sampled
 * figures). Baseline in the same server and run: GET /api/health, the cheapest authenticated-free answer.
 */
export async function run() {
  const dataDir = await seededDataDir(MACHINES, 'm');
  const srv = await startServer({ dataDir });
  try {
    const token = await adminToken(srv.url);
    const scrape = () => fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    await timed(5, scrape); // warm-up
    const health = await timed(SCRAPES, () => fetch(`${srv.url}/api/health`));
    const metrics = await timed(SCRAPES, scrape);
    const series = metrics.body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const machineSeries = metrics.body.split('\n').filter((l) => l.startsWith('hangar_machine_')).length;
    if (!metrics.body.includes('name="m-199"')) throw new Error('the scrape lacks the 200th machine');
    return {
      metrics_scrape_ms: metrics.p50,
      metrics_scrape_p95_ms: metrics.p95,
      metrics_scrape_max_ms: metrics.max,
      health_p50_ms: health.p50,
      scrape_over_health: round(metrics.p50 / Math.max(health.p50, 0.1), 1),
      machines: MACHINES,
      series,
      machine_series: machineSeries,
      body_kb: round(metrics.body.length / 1024, 0),
      scrapes: SCRAPES,
      note: 'GET /metrics (admin token) one after another with 200 stopped machines in the database; baseline GET /api/health on the same server',
    };
  } finally {
    await srv.stop();
    removeDataDir(dataDir);
  }
}
