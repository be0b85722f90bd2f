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

/**
 * What only Hangar does. `fork_link_open_to_console_s`: a fork link opened by a new browser (no
 * cookie) until its fork's console answers a command typed into it: the open (a slot taken, a live
 * fork started from the snapshot, its console credential made), the console socket, the attach,
 * and a round trip through the guest's shell. Busybox under TCG, 128 MiB.
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
    return { fork_link_open_to_console_s: round(median(times), 3), fork_link_open_to_console_s_all: times.map((t) => round(t, 3)), opens: OPENS };
  } finally {
    await tearDown(srv, api, sockets);
  }
}
