import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { pssMb, round, rssMb } from './stats';

async function finished(api: ApiClient, job: Job): Promise<Job> {
  const j = await jobDone(api, job, 300_000);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}
const secs = (j: Job) => ((j.finishedAt ?? 0) - (j.startedAt ?? 0)) / 1000;

/** Live snapshots of a 512 MB busybox guest, against a cold boot to the same point in the same run. */
export async function run() {
  const srv = await startServer();
  try {
    const api = client(srv.url, await adminToken(srv.url));
    await finished(api, await api.images.build({ kind: 'busybox' }));
    const t0 = performance.now();
    await finished(api, await api.machines.create({ name: 'snap-bench', image: 'busybox', memoryMib: 512 }));
    const coldS = (performance.now() - t0) / 1000;

    const cp = await finished(api, await api.snapshots.checkpoint('snap-bench', 'bench'));
    const snap = await api.snapshots.get((cp.result as { snapshot: string }).snapshot);
    const restore = await finished(api, await api.snapshots.restore(snap.id, { checkpointFirst: false }));
    const f0 = performance.now();
    const forks = await finished(api, await api.snapshots.fork(snap.id, { count: 10, namePrefix: 'bf' }));
    const forkS = (performance.now() - f0) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const ids = (forks.result as { machines: string[] }).machines;
    const pids = ids.map((id) => Number(fs.readFileSync(path.join(srv.dataDir, 'machines', id, 'qemu.pid'), 'utf8')));
    const rss = pids.map(rssMb);
    const pss = pids.map(pssMb);
    for (const m of (await api.machines.list()).items) await finished(api, await api.machines.destroy(m.id));
    const restoreS = (restore.result as { runningMs: number }).runningMs / 1000;
    return {
      guest_ram_mb: 512,
      checkpoint_s: round(secs(cp)),
      pause_s: round((snap.pauseMs ?? 0) / 1000, 3),
      restore_s: round(restoreS, 3),
      restore_job_s: round(secs(restore)),
      cold_boot_s: round(coldS),
      restore_speedup: round(coldS / restoreS, 1),
      fork10_s: round((forks.result as { runningMs: number }).runningMs / 1000),
      fork10_fixed_s: round(forkS),
      rss_mb_per_fork: round(rss.reduce((a, b) => a + b, 0) / rss.length, 0),
      pss_mb_per_fork: round(pss.reduce((a, b) => a + b, 0) / pss.length, 0),
      state_mb_per_512mb: round(snap.sizeBytes / 2 ** 20, 1),
      note: 'restore_s: restore start to the guest running (stop the current qemu, new disk layer, qemu -incoming on the snapshot RAM mapped copy-on-write, device state); restore_job_s adds the job around it and the guest fix-ups; checkpoint_s is the whole checkpoint job, checksums included; fork10_s: fork start to all 10 guests running; fork10_fixed_s: request to the job done, guest fix-ups (clock, RNG, hostname, MAC over the agent) included',
    };
  } finally {
    await srv.stop();
  }
}
