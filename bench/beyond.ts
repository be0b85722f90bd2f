import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { adminToken, client, jobDone, serialConsole, startServer, tearDown } from '@/server/integration/harness';
import { round } from './stats';

async function finished(api: ApiClient, job: Job, ms = 300_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Opens measured (the figure is their median). */
const OPENS = 5;

/** Forks measured each way (the figures are their medians). */
const FORKS = 5;

/**
 * `hot_fork_ms` and `cold_fork_ms`: one fork of the same live snapshot, from the fork job's start
 * until the guest runs (the job's `runningMs`), with the snapshot hot (a standby qemu waiting on
 * `-incoming defer` takes the device state) and not (qemu started, then the state loaded).
 */
async function hotVsCold(api: ApiClient): Promise<Record<string, unknown>> {
  const cp = await finished(api, await api.snapshots.checkpoint('beyond-src', 'beyond-hot'));
  const snap = (cp.result as { snapshot: string }).snapshot;
  const phases: Record<'hot' | 'cold', Record<string, number>[]> = { hot: [], cold: [] };
  const forkOnce = async (way: 'hot' | 'cold'): Promise<number> => {
    const j = await finished(api, await api.snapshots.fork(snap, { count: 1 }));
    const r = j.result as { machines: string[]; runningMs: number; phases?: Record<string, number> };
    if (r.phases) phases[way].push(r.phases);
    await finished(api, await api.machines.destroy(r.machines[0]));
    return r.runningMs;
  };
  /** Each phase's median over the forks (where the time goes; see the fork job's log). */
  const medians = (all: Record<string, number>[]) => Object.fromEntries(Object.keys(all[0] ?? {}).map((k) => [k, median(all.map((p) => p[k] ?? 0))]));
  const cold: number[] = [];
  for (let i = 0; i < FORKS; i++) cold.push(await forkOnce('cold'));
  await api.snapshots.hot(snap, true);
  const hot: number[] = [];
  for (let i = 0; i < FORKS; i++) {
    const end = Date.now() + 120_000;
    while (((await api.snapshots.get(snap)).pool?.ready ?? 0) < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    hot.push(await forkOnce('hot'));
  }
  await api.snapshots.hot(snap, false);
  return {
    hot_fork_ms: median(hot),
    hot_fork_ms_all: hot,
    cold_fork_ms: median(cold),
    cold_fork_ms_all: cold,
    forks_each: FORKS,
    hot_phases_ms: medians(phases.hot),
    cold_phases_ms: medians(phases.cold),
  };
}

/**
 * What only Hangar does. `fork_link_open_to_console_s`: a fork link opened by a new browser (no
 * cookie) until its fork's console answers a command typed into it: the open (a slot taken, a live
 * fork started from the snapshot, its console credential made), the console socket, the attach,
 * and a round trip through the guest's shell (a fork link's snapshot is hot: its forks take
 * standbys). Then hot_fork_ms and cold_fork_ms (see hotVsCold). Busybox under TCG, 128 MiB.
 */
export async function run(): Promise<Record<string, unknown>> {
  const srv = await startServer();
  const token = await adminToken(srv.url);
  const api = client(srv.url, token);
  const sockets: Socket[] = [];
  try {
    await finished(api, await api.images.build({ kind: 'busybox' }), 240_000);
    await finished(api, await api.machines.create({ name: 'beyond-src', image: 'busybox', memoryMib: 128 }));
    const link = await api.forkLinks.create({ machine: 'beyond-src', maxForks: OPENS, lifetimeSeconds: 600 });
    const times: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${srv.url}/api/fork-link/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url },
        body: JSON.stringify({ token: link.token }),
      });
      if (res.status !== 200) throw new Error(`open ${i}: ${res.status} ${await res.text()}`);
      const opened = (await res.json()) as { share: string; machine: { id: string } };
      const con = await serialConsole(srv.url, { share: opened.share }, opened.machine.id, `bench-${i}-${Math.random().toString(36).slice(2, 10)}`, sockets);
      if (!con.reply.ok) throw new Error(`attach ${i} refused: ${JSON.stringify(con.reply)}`);
      con.type(`echo prompt-${i}-$((40+2))\n`);
      await con.waitFor(`prompt-${i}-42`);
      times.push((performance.now() - t0) / 1000);
      con.s.disconnect();
    }
    await api.forkLinks.revoke(link.link.id, 'destroy');
    const forks = await hotVsCold(api);
    return {
      fork_link_open_to_console_s: round(median(times), 3),
      fork_link_open_to_console_s_all: times.map((t) => round(t, 3)),
      opens: OPENS,
      ...forks,
    };
  } finally {
    await tearDown(srv, api, sockets);
  }
}
