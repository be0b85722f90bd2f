import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '@/db/client';
import { insertMachine } from '@/db/repo/machines';
import { dataLayout, projectRoot } from '@/server/core/paths';
import { ADMIN_PASSWORD, adminToken, startServer } from '@/server/integration/harness';
import { percentile, round } from './stats';

const MACHINES = 1000;
const CONCURRENCY = 200;
const REQUESTS = 4000;

/** `total` requests, `concurrency` at a time (a bounded loop on loopback): requests per second and latency percentiles. */
async function load(total: number, concurrency: number, one: () => Promise<Response>) {
  const times: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const s = performance.now();
        const r = await one();
        await r.arrayBuffer();
        if (!r.ok) failed++;
        times.push(performance.now() - s);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { rps: round(times.length / s, 0), p50_ms: round(percentile(times, 50), 1), p99_ms: round(percentile(times, 99), 1), failed };
}

/**
 * The API under load: GET /api/machines with 1,000 machines in the database, 200 requests in
 * flight at once (client and server on this 2-core host), and logins (scrypt) at a lower
 * concurrency. The machines are written straight into a fresh data dir's SQLite before the
 * server starts (records only: stopped machines, no VM behind them).
 */
export async function run() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-api-'));
  const store = openDatabase({ sqlitePath: dataLayout(dataDir).db, migrationsDir: path.join(projectRoot(), 'db', 'migrations') });
  await store.migrate();
  const now = Date.now();
  for (let i = 0; i < MACHINES; i++) {
    await insertMachine(store, {
      id: `mch_bench${String(i).padStart(12, '0')}`,
      name: `load-${i}`,
      driver: i % 3 === 0 ? 'nspawn' : 'qemu',
      image: 'busybox',
      state: 'stopped',
      stateReason: null,
      cpus: 1,
      memoryMib: 256,
      diskGib: 2,
      ports: [],
      ownerId: null,
      createdAt: now - i * 1000,
      updatedAt: now,
    });
  }
  await store.close();
  const srv = await startServer({ dataDir });
  try {
    const token = await adminToken(srv.url);
    const auth = { authorization: `Bearer ${token}` };
    const first = (await (await fetch(`${srv.url}/api/machines`, { headers: auth })).json()) as { items: unknown[] };
    if (first.items.length !== MACHINES) throw new Error(`expected ${MACHINES} machines, got ${first.items.length}`);
    await load(400, 50, () => fetch(`${srv.url}/api/machines`, { headers: auth })); // warm-up
    const list = await load(REQUESTS, CONCURRENCY, () => fetch(`${srv.url}/api/machines`, { headers: auth }));
    const one = await load(REQUESTS, CONCURRENCY, () => fetch(`${srv.url}/api/machines/load-500`, { headers: auth }));
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
      failed: list.failed + one.failed + login.failed,
      one_machine_rps: one.rps,
      one_machine_p99_ms: one.p99_ms,
      login_rps: login.rps,
      login_p99_ms: login.p99_ms,
      response_kb: round(JSON.stringify(first).length / 1024, 0),
      note:
        'GET /api/machines (all 1,000, admin token) with 200 requests in flight; one_machine: GET ' +
        '/api/machines/NAME; login: POST /api/auth/login (scrypt) 10 at a time. Client and server share the ' +
        '2 cores.',
    };
  } finally {
    await srv.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
