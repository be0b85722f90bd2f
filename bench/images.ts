import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, which } from '@/server/drivers/exec';
import { removeTree } from '@/server/drivers/shared/tree';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { busyboxRoot, push, startRegistry, writeLayout } from '@/server/integration/oci-registry';

const secs = (t0: number) => (performance.now() - t0) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * OCI images: a ~30 MB image (busybox + three 10 MB layers of random bytes) from a local
 * docker-registry. Cold pull (the image deleted from the store before each), warm pull (same
 * digest), `hangar run --rm REF -- true` end to end through the CLI, against bare skopeo into a
 * fresh containers-storage (the same work without Hangar) and, where umoci is installed,
 * skopeo to an OCI layout + umoci unpack (the racker way), in the same run. The run's phases: the
 * CLI's start, the same run through the API (until its start event, the server's run and removal,
 * the whole request), and the CLI's share (`run_rm_true_ms` less the API run).
 */
export async function run_(): Promise<Record<string, unknown>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-images-'));
  const reg = await startRegistry(path.join(tmp, 'reg'));
  const srv = await startServer();
  try {
    const layers = [busyboxRoot(path.join(tmp, 'base'))];
    for (let i = 0; i < 3; i++) {
      const d = path.join(tmp, `rand${i}`);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, `blob${i}`), randomBytes(10 * 2 ** 20));
      layers.push(d);
    }
    writeLayout(path.join(tmp, 'layout'), [{ tag: 'big', layers, config: { Cmd: ['/bin/true'], Env: ['PATH=/bin'] } }]);
    push(path.join(tmp, 'layout'), 'big', reg, 'bench/big:1');
    const ref = `${reg.host}/bench/big:1`;
    const token = await adminToken(srv.url);
    const api = client(srv.url, token);
    await api.registries.put(reg.host, { insecure: true });
    const pull = async () => {
      const t0 = performance.now();
      const job = await jobDone(api, await api.images.pull({ ref }), 300_000);
      if (job.state !== 'succeeded') throw new Error(`pull: ${job.error}`);
      return secs(t0);
    };
    // Baselines: the same pull by bare skopeo (into a fresh store each time), and skopeo + umoci, each right after one of
    // Hangar's cold pulls, so that the three see the same host (its load changes by the second here).
    const policy = path.join(tmp, 'policy.json');
    const bare: number[] = [];
    const umoci: number[] = [];
    const hasUmoci = !!(await which('umoci'));
    const baselines = async (i: number) => {
      const st = path.join(tmp, `bare${i}`);
      let t0 = performance.now();
      const c = await run([
        'skopeo',
        '--policy',
        policy,
        'copy',
        '-q',
        '--src-tls-verify=false',
        `docker://${ref}`,
        `containers-storage:[overlay@${st}/root+${st}/run]bench/big:1`,
      ]);
      if (c.code !== 0) throw new Error(`skopeo: ${c.stderr}`);
      bare.push(secs(t0));
      await removeTree(st);
      if (!hasUmoci) return;
      const oci = path.join(tmp, `umoci${i}`);
      fs.mkdirSync(oci);
      t0 = performance.now();
      const a = await run(['skopeo', '--policy', policy, 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${oci}/layout:big`]);
      const b = await run(['umoci', 'unpack', '--image', `${oci}/layout:big`, `${oci}/bundle`]);
      if (a.code !== 0 || b.code !== 0) throw new Error(`skopeo + umoci: ${a.stderr}${b.stderr}`);
      umoci.push(secs(t0));
      await removeTree(oci);
    };
    const cold: number[] = [];
    // Five of each (cold pulls and both baselines): on a 2-core host a single copy varies by ±150 ms, as much as Hangar's own share.
    for (let i = 0; i < 5; i++) {
      cold.push(await pull());
      await baselines(i);
      if (i < 4) for (const img of (await api.images.list()).items) if (img.kind === 'oci') await api.images.remove(img.id);
    }
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await pull());
    const cli = (args: string[]) =>
      run([process.execPath, 'dist/cli.js', ...args], { input: '', timeoutMs: 60_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
    const runMs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const r = await cli(['run', '--rm', ref, '--', 'true']);
      if (r.code !== 0) throw new Error(`run: ${r.stderr}`);
      if (i > 0) runMs.push(performance.now() - t0);
    }
    // Where a run's time goes. The CLI's start: a new node process and its first module (`--help`). The same run
    // through the API from this (warm) process: until its start event (the server's checks, DB rows, upper dir,
    // audit), the server's own figure from start to exit (cgroups, nspawn spawned, the command, its exit, the
    // container removed), and the whole request. What `hangar run` adds to that is the CLI's share.
    const helpMs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const r = await cli(['--help']);
      if (r.code !== 0) throw new Error(`--help: ${r.stderr}`);
      if (i > 0) helpMs.push(performance.now() - t0);
    }
    const image = ((await api.images.list()).items.find((i) => i.kind === 'oci') ?? { name: '' }).name;
    const viaApi: { start: number; server: number; total: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      let start = 0;
      const last = await api.machines.runOnce({ image, argv: ['true'], rm: true }, (e) => {
        if (e.t === 'start') start = performance.now() - t0;
      });
      if (last?.t !== 'exit' || last.code !== 0 || !last.removed) throw new Error(`run through the API: ${JSON.stringify(last)}`);
      if (i > 0) viaApi.push({ start, server: last.durationMs, total: performance.now() - t0 });
    }
    const runApi = median(viaApi.map((x) => x.total));
    const pullCold = median(cold);
    const baseline = hasUmoci ? median(umoci) : median(bare);
    return {
      image_mb: 31,
      pull_cold_s: r3(pullCold),
      pull_warm_s: r3(median(warm)),
      run_rm_true_ms: Math.round(median(runMs)),
      run_cli_start_ms: Math.round(median(helpMs)),
      run_api_prepare_ms: Math.round(median(viaApi.map((x) => x.start))),
      run_api_server_ms: Math.round(median(viaApi.map((x) => x.server))),
      run_api_ms: Math.round(runApi),
      run_cli_share_ms: Math.round(median(runMs) - runApi),
      skopeo_copy_s: r3(baseline),
      skopeo_store_s: r3(median(bare)),
      pull_cold_vs_skopeo: r3(pullCold / baseline),
      pull_cold_vs_skopeo_store: r3(pullCold / median(bare)),
      baseline: hasUmoci ? 'skopeo to an OCI layout + umoci unpack' : 'skopeo into containers-storage',
      load_avg: r3(os.loadavg()[0]),
    };
  } finally {
    await srv.stop();
    await reg.stop();
    await removeTree(srv.dataDir);
    await removeTree(tmp);
  }
}

export { run_ as run };
