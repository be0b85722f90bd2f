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

/** A chain cold (nothing cached), then warm three times: the median warm run. */
async function coldWarm(api: ApiClient, chain: string, tag: string) {
  const cold = await build(api, chain, `${tag}-cold`);
  const warm: { s: number; r: BuildResult }[] = [];
  for (let i = 0; i < 3; i++) warm.push(await build(api, chain, `${tag}-warm${i}`));
  const mid = [...warm].sort((a, b) => a.s - b.s)[1];
  // Only the last machine is kept: each Debian VM holds its RAM.
  for (const m of [`${tag}-cold`, `${tag}-warm0`, `${tag}-warm1`]) await finished(api, await api.machines.destroy(m));
  return { cold, warm: mid };
}

/**
 * Cold vs warm runs of the same chain: Debian in a QEMU VM under TCG (the case:
 * os.debian + apt + exec), Debian in an nspawn container, and a busybox VM; and what a cache
 * hit costs over forking the cached snapshot directly.
 */
export async function run() {
  const srv = await startServer({ env: { HANGAR_CACHE: process.env.HANGAR_CACHE ?? path.join(os.tmpdir(), 'hangar-test-cache') } });
  try {
    const api = client(srv.url, await adminToken(srv.url));
    await finished(api, await api.images.build({ kind: 'busybox' }));
    await finished(api, await api.images.build({ kind: 'debian-12' }));

    const bb = await coldWarm(api, 'busybox + file /etc/motd "built by steps" + exec -- sh -c "cat /etc/motd > /tmp/motd"', 'bb');
    const vm = await coldWarm(api, 'debian-12 --driver qemu + apt hello + exec -- hello', 'vm');
    const ct = await coldWarm(api, 'debian-12 + apt hello + exec -- hello', 'ct');

    // The same last snapshot forked directly: what the cache lookup and the job add on top.
    const last = (await api.steps.nodes()).items.find((n) => n.key === bb.warm.r.keys[bb.warm.r.keys.length - 1])!;
    const direct: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await finished(api, await api.snapshots.fork(last.snapshotId!, { names: [`bb-direct${i}`] }));
      direct.push((performance.now() - t0) / 1000);
    }
    const directS = [...direct].sort((a, b) => a - b)[1];
    return {
      cold_s: round(vm.cold.s),
      warm_s: round(vm.warm.s),
      speedup: round(vm.cold.s / vm.warm.s, 1),
      hit_overhead_ms: round((bb.warm.s - directS) * 1000, 0),
      nspawn_cold_s: round(ct.cold.s),
      nspawn_warm_s: round(ct.warm.s),
      nspawn_speedup: round(ct.cold.s / ct.warm.s, 1),
      busybox_cold_s: round(bb.cold.s),
      busybox_warm_s: round(bb.warm.s),
      busybox_speedup: round(bb.cold.s / bb.warm.s, 1),
      busybox_direct_fork_s: round(directS),
      note:
        'cold: no cached step (create, run every step, checkpoint each); warm: the same chain again, median ' +
        'of 3 (the last step restored from its snapshot, nothing run), to a running machine. ' +
        'cold_s/warm_s/speedup: debian-12 --driver qemu + apt hello + exec hello (a VM under TCG, live ' +
        'snapshots); nspawn_*: the same chain in an nspawn container; busybox_*: a busybox VM. ' +
        'hit_overhead_ms: warm busybox build minus forking the same snapshot directly (medians)',
    };
  } finally {
    // Machines outlive the server by design: a failed run must not leave its VMs and containers behind.
    const api = client(srv.url, await adminToken(srv.url));
    for (const m of (await api.machines.list()).items) await jobDone(api, await api.machines.destroy(m.id)).catch(() => undefined);
    await srv.stop();
  }
}
