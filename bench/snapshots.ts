import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { pssMb, round, rssMb } from './stats';

async function finished(api: ApiClient, job: Job, ms = 300_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}
const secs = (j: Job) => ((j.finishedAt ?? 0) - (j.startedAt ?? 0)) / 1000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * One image's figures: a 512 MB guest booted cold (create -> ready), checkpointed live,
 * restored (to the guest running again), and forked 10 times at once.
 */
async function measure(api: ApiClient, dataDir: string, image: 'busybox' | 'debian-12', prefix: string) {
  const name = `${prefix}-bench`;
  const t0 = performance.now();
  await finished(api, await api.machines.create({ name, image, memoryMib: 512, cpus: image === 'busybox' ? 1 : 2 }));
  const coldS = (performance.now() - t0) / 1000;
  // Idle a moment, as a machine someone checkpoints would be.
  await new Promise((r) => setTimeout(r, 2000));
  const cp = await finished(api, await api.snapshots.checkpoint(name, 'bench'));
  const snap = await api.snapshots.get((cp.result as { snapshot: string }).snapshot);
  const restore = await finished(api, await api.snapshots.restore(snap.id, { checkpointFirst: false }));
  const answered = await api.machines.exec(name, ['true']);
  if (answered.code !== 0) throw new Error(`${name} does not answer after the restore: ${answered.stderr}`);
  const f0 = performance.now();
  const forks = await finished(api, await api.snapshots.fork(snap.id, { count: 10, namePrefix: `${prefix}-f` }));
  const forkJobS = (performance.now() - f0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const pids = (forks.result as { machines: string[] }).machines.map((id) => Number(fs.readFileSync(path.join(dataDir, 'machines', id, 'qemu.pid'), 'utf8')));
  const rss = mean(pids.map(rssMb));
  const pss = mean(pids.map(pssMb));
  for (const m of (await api.machines.list()).items) await finished(api, await api.machines.destroy(m.id));
  const restoreS = (restore.result as { runningMs: number }).runningMs / 1000;
  return {
    checkpoint_s: round(secs(cp)),
    pause_s: round((snap.pauseMs ?? 0) / 1000, 3),
    restore_s: round(restoreS, 3),
    restore_job_s: round(secs(restore)),
    cold_boot_s: round(coldS),
    restore_speedup: round(coldS / restoreS, 1),
    fork10_s: round((forks.result as { runningMs: number }).runningMs / 1000),
    fork10_fixed_s: round(forkJobS),
    rss_mb_per_fork: round(rss, 0),
    pss_mb_per_fork: round(pss, 0),
    state_mb_per_512mb: round(snap.sizeBytes / 2 ** 20, 1),
  };
}

/** Live snapshots of 512 MB guests (busybox, then Debian 12 with systemd), against a cold boot to the same point in the same run. */
export async function run() {
  const srv = await startServer();
  try {
    const api = client(srv.url, await adminToken(srv.url));
    await finished(api, await api.images.build({ kind: 'busybox' }));
    const busybox = await measure(api, srv.dataDir, 'busybox', 'bb');
    let debian: Record<string, number> | { skipped: string };
    try {
      await finished(api, await api.images.build({ kind: 'debian-12' }), 20 * 60_000);
      const d = await measure(api, srv.dataDir, 'debian-12', 'deb');
      debian = Object.fromEntries(Object.entries(d).map(([k, v]) => [`debian_${k}`, v]));
    } catch (err) {
      debian = { skipped: `debian-12: ${(err as Error).message}` };
    }
    return {
      guest_ram_mb: 512,
      ...busybox,
      ...debian,
      note:
        'restore_s: restore start to the guest running (stop the current qemu, new disk layer, qemu ' +
        '-incoming on the snapshot RAM mapped copy-on-write, device state); restore_job_s adds the job and ' +
        'the guest fix-ups; cold_boot_s: create to ready (busybox: shell; Debian: sshd up); checkpoint_s: ' +
        'the whole checkpoint job, state checksum included; fork10_s: fork start to all 10 guests running; ' +
        'fork10_fixed_s: request to the job done, fix-ups (clock, RNG, hostname, MAC) included; state_mb: ' +
        'state + RAM + frozen disk layer on disk',
    };
  } finally {
    await srv.stop();
  }
}
