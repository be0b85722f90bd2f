import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import type { BuildResult } from '@/lib/contracts/steps';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { round } from './stats';

async function finished(api: ApiClient, job: Job, ms = 1_200_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}

/** One chain run: the build job from request to the machine in the chain's last state. */
async function build(api: ApiClient, chain: string, name: string): Promise<{ s: number; r: BuildResult }> {
  const t0 = performance.now();
  const j = await finished(api, await api.steps.build({ chain, name }));
  return { s: (performance.now() - t0) / 1000, r: j.result as BuildResult };
}

/**
 * Cold vs warm runs of the same chain (busybox VM, and Debian in an nspawn container with an
 * apt step), and what a cache hit costs over forking the cached snapshot directly.
 */
export async function run() {
  const srv = await startServer({ env: { HANGAR_CACHE: process.env.HANGAR_CACHE ?? path.join(os.tmpdir(), 'hangar-test-cache') } });
  try {
    const api = client(srv.url, await adminToken(srv.url));
    await finished(api, await api.images.build({ kind: 'busybox' }));
    await finished(api, await api.images.build({ kind: 'debian-12' }));

    const bb = 'busybox + file /etc/motd "built by steps" + exec -- sh -c "cat /etc/motd > /tmp/motd"';
    const bbCold = await build(api, bb, 'bb-cold');
    const bbWarm = await build(api, bb, 'bb-warm');

    const deb = 'debian-12 + apt hello + exec -- hello';
    const debCold = await build(api, deb, 'deb-cold');
    const debWarm = await build(api, deb, 'deb-warm');

    // The same last snapshot forked directly: what the cache lookup and the job add on top.
    const last = (await api.steps.nodes()).items.find((n) => n.key === bbWarm.r.keys[bbWarm.r.keys.length - 1])!;
    const t0 = performance.now();
    await finished(api, await api.snapshots.fork(last.snapshotId!, { names: ['bb-direct'] }));
    const directS = (performance.now() - t0) / 1000;
    return {
      cold_s: round(debCold.s),
      warm_s: round(debWarm.s),
      speedup: round(debCold.s / debWarm.s, 1),
      hit_overhead_ms: round((bbWarm.s - directS) * 1000, 0),
      busybox_cold_s: round(bbCold.s),
      busybox_warm_s: round(bbWarm.s),
      busybox_speedup: round(bbCold.s / bbWarm.s, 1),
      busybox_direct_fork_s: round(directS),
      note: 'cold: no cached step (create, run every step, checkpoint each); warm: the same chain again (the last step restored from its snapshot, nothing run). Debian: os.debian (nspawn container) + apt hello + exec hello; busybox: a QEMU VM (live snapshots). hit_overhead_ms: warm busybox build minus forking the same snapshot directly',
    };
  } finally {
    // Machines outlive the server by design: a failed run must not leave its VMs and containers behind.
    const api = client(srv.url, await adminToken(srv.url));
    for (const m of (await api.machines.list()).items) await jobDone(api, await api.machines.destroy(m.id)).catch(() => undefined);
    await srv.stop();
  }
}
