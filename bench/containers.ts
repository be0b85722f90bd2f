import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { cgroupDirs } from '@/server/drivers/shared/cgroups';
import { prepareUpper } from '@/server/drivers/nspawn/argv';
import { imageRef } from '@/server/drivers/podman/images';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { pssMb, round } from './stats';

async function finished(api: ApiClient, job: Job, ms = 120_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}
const secs = (t0: number) => (performance.now() - t0) / 1000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The median of `n` runs, after one warm-up run. */
async function repeat(fn: () => Promise<number>, n: number): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  return xs.sort((a, b) => a - b)[Math.floor(n / 2)];
}

function allPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    out.push(...fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return out;
}

const duMb = async (dir: string) => Number((await run(['du', '-sm', dir])).stdout.split('\t')[0]);

/** Create (to ready), stop, start again (to ready), then `execs` runs of `true`: the timings. */
async function lifecycle(api: ApiClient, body: Parameters<ApiClient['machines']['create']>[0], stopS: number, execs: number) {
  let t0 = performance.now();
  await finished(api, await api.machines.create(body), 600_000);
  const createS = secs(t0);
  await finished(api, await api.machines.act(body.name, 'stop', { timeoutS: stopS }));
  t0 = performance.now();
  await finished(api, await api.machines.act(body.name, 'start'));
  const startS = secs(t0);
  const execMs: number[] = [];
  for (let i = 0; i < execs; i++) {
    const e0 = performance.now();
    await api.machines.exec(body.name, ['true']);
    execMs.push(performance.now() - e0);
  }
  return { createS, startS, execMs };
}

/** Bare nspawn under the console holder, no server: boot to the login prompt (the baseline). */
async function bareBoot(rootfs: string, dir: string): Promise<number> {
  // The same upper dir as a Hangar container gets (VM-only units masked), so the boots compare.
  prepareUpper(path.join(dir, 'upper'), 'bare');
  const t0 = performance.now();
  const holder = spawn(
    process.execPath,
    [
      'dist/holder.js',
      dir,
      '--',
      'systemd-nspawn',
      '--quiet',
      '--boot',
      '--register=no',
      '--keep-unit',
      '--private-network',
      '--machine=bare',
      `--directory=${rootfs}`,
      `--overlay=${rootfs}:${dir}/upper:/`,
    ],
    { stdio: 'ignore' },
  );
  try {
    for (;;) {
      const log = fs.existsSync(path.join(dir, 'console.log')) ? fs.readFileSync(path.join(dir, 'console.log'), 'utf8') : '';
      if (/\blogin: /.test(log)) return secs(t0);
      if (secs(t0) > 60) throw new Error('bare nspawn did not reach a login prompt in 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    const pid = JSON.parse(fs.readFileSync(path.join(dir, 'holder.pid'), 'utf8')).child as number;
    process.kill(pid, 'SIGTERM');
    await new Promise((r) => holder.once('exit', r));
  }
}

/** nspawn OS containers (debian-12 root filesystem) against bare nspawn in the same run. */
export async function run_() {
  const srv = await startServer({ env: process.env.HANGAR_CACHE ? { HANGAR_CACHE: process.env.HANGAR_CACHE } : {} });
  try {
    const api = client(srv.url, await adminToken(srv.url));
    await finished(api, await api.images.build({ kind: 'debian-12' }), 20 * 60_000);
    const rootfs = path.join(srv.dataDir, 'images', 'debian-12', 'rootfs');
    // The first boot of a fresh root filesystem reads it from disk: warm the cache once, then measure.
    await bareBoot(rootfs, path.join(srv.dataDir, 'tmp', 'bare-0'));
    const bare = await bareBoot(rootfs, path.join(srv.dataDir, 'tmp', 'bare'));

    const ct = await lifecycle(api, { name: 'ct-bench', image: 'debian-12', driver: 'nspawn', memoryMib: 256 }, 30, 10);
    const [cold, warm, execs] = [ct.createS, ct.startS, ct.execMs];
    const id = (await api.machines.get('ct-bench')).id;

    let t0 = performance.now();
    const ten = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.machines.create({ name: `ct-many-${i}`, image: 'debian-12', driver: 'nspawn', memoryMib: 256 })),
    );
    await Promise.all(ten.map((j) => finished(api, j, 300_000)));
    const tenS = secs(t0);
    await new Promise((r) => setTimeout(r, 3000));
    const pss = mean(
      (await api.machines.list()).items
        .filter((m) => m.name.startsWith('ct-many-'))
        .map((m) => allPids(cgroupDirs(m.id).unified!).reduce((a, p) => a + pssMb(p), 0)),
    );
    const upper = await duMb(path.join(srv.dataDir, 'machines', id, 'upper'));
    const image = await duMb(rootfs);

    for (const m of (await api.machines.list()).items.filter((x) => x.name.startsWith('ct-many-'))) await finished(api, await api.machines.destroy(m.id));
    // Fork 10 from a checkpoint of a running OS container, until all 10 offer a login.
    await finished(api, await api.snapshots.checkpoint('ct-bench', 'bench'));
    const snap = (await api.machines.get('ct-bench')).snapshotId!;
    t0 = performance.now();
    await finished(api, await api.snapshots.fork(snap, { count: 10, namePrefix: 'ct-fork' }), 300_000);
    const fork10S = secs(t0);
    for (const m of (await api.machines.list()).items) await finished(api, await api.machines.destroy(m.id));
    await api.snapshots.remove(snap);

    // Application containers (no init): `hangar run --rm debian-12 -- true` end to end through the
    // CLI (a new node process each time), and the same request from a warm client (the server's part).
    const env = { XDG_CONFIG_HOME: path.join(srv.dataDir, 'tmp', 'cli'), HANGAR_URL: srv.url, HANGAR_TOKEN: await adminToken(srv.url) };
    const cliRun = async (args: string[]) => {
      const r0 = performance.now();
      const r = await run([process.execPath, 'dist/cli.js', 'run', '--rm', ...args, 'debian-12', '--', 'true'], { env, timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`hangar run failed: ${r.stderr}`);
      return performance.now() - r0;
    };
    const runMs = await repeat(() => cliRun([]), 7);
    const apiRunMs = await repeat(async () => {
      const r0 = performance.now();
      const last = await api.machines.runOnce({ image: 'debian-12', argv: ['true'] }, () => undefined);
      if (last?.t !== 'exit' || last.code !== 0) throw new Error(`run failed: ${JSON.stringify(last)}`);
      return performance.now() - r0;
    }, 7);
    const bareAppMs = await repeat(async () => {
      const up = fs.mkdtempSync(path.join(srv.dataDir, 'tmp', 'app-'));
      const r0 = performance.now();
      const r = await run(
        [
          'systemd-nspawn',
          '--quiet',
          '--register=no',
          '--keep-unit',
          '--private-network',
          '--as-pid2',
          '--console=pipe',
          '--machine=bare-app',
          `--directory=${rootfs}`,
          `--overlay=${rootfs}:${up}:/`,
          '--',
          'true',
        ],
        { env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' } },
      );
      const ms = performance.now() - r0;
      fs.rmSync(up, { recursive: true, force: true });
      if (r.code !== 0) throw new Error(`bare nspawn run failed: ${r.stderr}`);
      return ms;
    }, 7);

    // podman: the first create imports the root filesystem as an image; then a shell container.
    const pd = await lifecycle(api, { name: 'pd-bench', image: 'debian-12', driver: 'podman' }, 10, 5);
    const [podImport, podStart, podExecs] = [pd.createS, pd.startS, pd.execMs];
    await finished(api, await api.machines.destroy('pd-bench'));
    const podRunMs = await repeat(() => cliRun(['--driver', 'podman']), 5);
    t0 = performance.now();
    const bareRun = await run(
      [
        'podman',
        '--runtime',
        'runc',
        '--cgroup-manager=cgroupfs',
        'run',
        '--rm',
        '--network',
        'none',
        '--ulimit',
        'nofile=1000:1000',
        '--ulimit',
        'nproc=1000:1000',
        imageRef(rootfs),
        'true',
      ],
      { timeoutMs: 60_000 },
    );
    const bareRunS = secs(t0);
    if (bareRun.code !== 0) throw new Error(`bare podman run failed: ${bareRun.stderr}`);
    return {
      nspawn_run_rm_true_ms: round(runMs, 0),
      nspawn_os_login_s: round(cold),
      podman_run_rm_true_ms: round(podRunMs, 0),
      fork10_s: round(fork10S),
      nspawn_run_rm_true_api_ms: round(apiRunMs, 0),
      bare_nspawn_run_true_ms: round(bareAppMs, 0),
      bare_nspawn_boot_s: round(bare),
      cold_start_s: round(cold),
      warm_start_s: round(warm),
      hangar_overhead_ratio: round(warm / bare),
      exec_ms: round(mean(execs), 0),
      ten_containers_s: round(tenS),
      pss_mb_per_container: round(pss, 0),
      upper_mb_per_container: upper,
      image_rootfs_mb: image,
      podman_first_create_s: round(podImport),
      podman_warm_start_s: round(podStart),
      bare_podman_run_true_s: round(bareRunS),
      podman_exec_ms: round(mean(podExecs), 0),
      note:
        'cold_start_s: create -> login prompt (first boot of a new container); warm_start_s: start of a ' +
        'stopped one -> login prompt; bare_nspawn_boot_s: the same boot under the console holder with no ' +
        'server, API or job (after one warm-up boot); ten: 10 created at once until all are ready; pss: ' +
        'proportional memory of all processes in a container cgroup, idle; nspawn_run_rm_true_ms: median ' +
        'wall time of `hangar run --rm debian-12 -- true` (a new CLI process: node start-up included; an ' +
        'application container, no init), vs nspawn_run_rm_true_api_ms: the same request from a warm client, ' +
        'vs bare_nspawn_run_true_ms: systemd-nspawn --as-pid2 on the same overlay by hand; ' +
        'nspawn_os_login_s: create of an OS container to its login prompt; fork10_s: fork of 10 from a ' +
        'checkpoint of a running OS container until all 10 offer a login; podman_run_rm_true_ms: the same ' +
        'CLI run with --driver podman; podman_first_create_s includes podman import of the root filesystem; ' +
        'podman_warm_start_s: start of a stopped shell container to running, vs bare_podman_run_true_s: ' +
        'podman run --rm IMAGE true by hand',
    };
  } finally {
    await srv.stop();
  }
}

export { run_ as run };
