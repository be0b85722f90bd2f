import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { bareStartMs, cmdlineOf } from './qemu-bare';
import { pssMb, round, rssMb } from './stats';

async function finished(api: ApiClient, job: Job, ms = 300_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}
const secs = (j: Job) => ((j.finishedAt ?? 0) - (j.startedAt ?? 0)) / 1000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Restores measured per image (the figures are their medians). */
const RESTORES = 9;

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
  // Several restores of the running machine, each after a bare start of the same qemu command line (the floor) while
  // the machine is paused, so both see the same moment of a shared, noisy host: medians of each figure.
  const restores: Job[] = [];
  const bare: number[] = [];
  const machineDir = path.join(dataDir, 'machines', (await api.machines.get(name)).id);
  const destroyAll = async () => {
    for (const m of (await api.machines.list()).items) await finished(api, await api.machines.destroy(m.id));
  };
  let forks: Job;
  let forkJobS: number;
  let rss: number;
  let pss: number;
  try {
    for (let i = 0; i < RESTORES; i++) {
      if (i > 0) {
        const argv = cmdlineOf(Number(fs.readFileSync(path.join(machineDir, 'qemu.pid'), 'utf8')));
        await finished(api, await api.machines.act(name, 'pause'));
        bare.push(await bareStartMs(argv, machineDir));
        await finished(api, await api.machines.act(name, 'resume'));
      }
      restores.push(await finished(api, await api.snapshots.restore(snap.id, { checkpointFirst: false })));
      const answered = await api.machines.exec(name, ['true']);
      if (answered.code !== 0) throw new Error(`${name} does not answer after the restore: ${answered.stderr}`);
    }
    const f0 = performance.now();
    forks = await finished(api, await api.snapshots.fork(snap.id, { count: 10, namePrefix: `${prefix}-f` }));
    forkJobS = (performance.now() - f0) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const pids = (forks.result as { machines: string[] }).machines.map((id) => Number(fs.readFileSync(path.join(dataDir, 'machines', id, 'qemu.pid'), 'utf8')));
    rss = mean(pids.map(rssMb));
    pss = mean(pids.map(pssMb));
  } finally {
    // Also after a failure: machines are daemonized, the server's stop leaves them running.
    await destroyAll();
  }
  const results = restores.map((j) => j.result as { runningMs: number; phases: Record<string, number> });
  const restoreS = median(results.map((r) => r.runningMs)) / 1000;
  const phaseNames = [...new Set(results.flatMap((r) => Object.keys(r.phases)))];
  return {
    checkpoint_s: round(secs(cp)),
    pause_s: round((snap.pauseMs ?? 0) / 1000, 3),
    restore_s: round(restoreS, 3),
    restore_s_all: results.map((r) => r.runningMs / 1000),
    restore_job_s: round(median(restores.map(secs))),
    restore_bare_start_s: round(median(bare) / 1000, 3),
    restore_bare_start_s_all: bare.map((ms) => round(ms / 1000, 3)),
    restore_vs_bare_start: round(restoreS / (median(bare) / 1000), 2),
    restore_phases_ms: Object.fromEntries(phaseNames.map((k) => [k, median(results.map((r) => r.phases[k] ?? 0))])),
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
    let debian: Record<string, unknown>;
    try {
      // For quick runs while working on the busybox figures: HANGAR_BENCH_BUSYBOX_ONLY=1.
      if (process.env.HANGAR_BENCH_BUSYBOX_ONLY) throw new Error('HANGAR_BENCH_BUSYBOX_ONLY is set');
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
        'restore_s: median of 9 restores of the running machine, restore start to the guest running (stop the current qemu, new disk layer, qemu ' +
        '-incoming on the snapshot RAM mapped copy-on-write, device state); restore_job_s adds the job and ' +
        'the guest fix-ups; cold_boot_s: create to ready (busybox: shell; Debian: sshd up); checkpoint_s: ' +
        'the whole checkpoint job, state checksum included; fork10_s: fork start to all 10 guests running; ' +
        'fork10_fixed_s: request to the job done, fix-ups (clock, RNG, hostname, MAC) included; state_mb: ' +
        'state + RAM + frozen disk layer on disk; restore_bare_start_s: median of 8 starts of the restored ' +
        "machine's own qemu command line (scratch files and disk, not daemonized, -S instead of -incoming) to the answer " +
        'to qmp_capabilities, one before each restore but the first, the machine paused meanwhile; ' +
        'restore_phases_ms: medians, timed inside the job (stop_old and new_layer run side by side; stop_and_layer is the wait for both)',
    };
  } finally {
    await srv.stop();
  }
}
