import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Job } from '@/lib/contracts/jobs';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, startServer } from '@/server/integration/harness';
import { round, rssMb } from './stats';

const allocated = (f: string) => fs.statSync(f).blocks * 512;

async function finished(api: ApiClient, job: Job): Promise<Job> {
  const j = await jobDone(api, job, 300_000);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}

export async function run_() {
  const srv = await startServer({ env: { HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache') } });
  try {
    const api = client(srv.url, await adminToken(srv.url));
    await finished(api, await api.images.build({ kind: 'busybox' }));
    const img = path.join(srv.dataDir, 'images', 'busybox');

    // Baseline, same run: bare qemu on the same kernel and initramfs, to the same marker, no Hangar in between.
    const bare = await run(
      [
        'qemu-system-x86_64',
        '-accel',
        'tcg,tb-size=64',
        '-m',
        '512',
        '-nodefaults',
        '-display',
        'none',
        '-no-reboot',
        '-serial',
        'stdio',
        '-kernel',
        path.join(img, 'kernel'),
        '-initrd',
        path.join(img, 'initrd.img'),
        '-append',
        'console=ttyS0 panic=-1 hangar.hostname=bare',
      ],
      { until: 'hangar-ready bare', timeoutMs: 120_000 },
    );

    const t0 = performance.now();
    const job = await api.machines.create({ name: 'bench-boot', image: 'busybox', memoryMib: 512 });
    await finished(api, job);
    const promptS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const pid = Number(fs.readFileSync(path.join(srv.dataDir, 'machines', job.machineId!, 'qemu.pid'), 'utf8'));
    const rss = rssMb(pid);

    const overlays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const j = await api.machines.create({ name: `bench-disk-${i}`, image: 'busybox', start: false });
      await finished(api, j);
      const layers = path.join(srv.dataDir, 'layers');
      overlays.push(
        fs
          .readdirSync(layers)
          .filter((f) => f.startsWith(j.machineId!))
          .reduce((a, f) => a + allocated(path.join(layers, f)), 0),
      );
    }
    const imageBytes = ['kernel', 'initrd.img', 'disk.qcow2'].reduce((a, f) => a + allocated(path.join(img, f)), 0);
    const one = imageBytes + overlays[0];
    const ten = imageBytes + overlays.reduce((a, b) => a + b, 0);

    for (const m of (await api.machines.list()).items) await finished(api, await api.machines.destroy(m.id));

    // Debian 12 with systemd: image build (packages cached between runs), then create -> SSH answers a command.
    const b0 = performance.now();
    await jobDone(api, await api.images.build({ kind: 'debian-12' }), 20 * 60_000).then((j) => {
      if (j.state !== 'succeeded') throw new Error(`debian-12 build: ${j.error}`);
    });
    const buildS = (performance.now() - b0) / 1000;
    const d0 = performance.now();
    await finished(api, await api.machines.create({ name: 'bench-deb', image: 'debian-12', cpus: 2, memoryMib: 512 }));
    const readyS = (performance.now() - d0) / 1000;
    const r = await api.machines.exec('bench-deb', ['true']);
    if (r.code !== 0) throw new Error(`ssh exec failed: ${r.stderr}`);
    const sshS = (performance.now() - d0) / 1000;
    const e0 = performance.now();
    for (let i = 0; i < 5; i++) await api.machines.exec('bench-deb', ['true']);
    const execMs = (performance.now() - e0) / 5;
    await finished(api, await api.machines.destroy('bench-deb'));
    return {
      busybox_prompt_s: round(promptS),
      bare_qemu_prompt_s: round(bare.durationMs / 1000),
      hangar_overhead_ratio: round(promptS / (bare.durationMs / 1000)),
      debian_image_build_s: round(buildS, 1),
      debian_ready_s: round(readyS),
      debian_ssh_s: round(sshS),
      debian_ssh_exec_ms: round(execMs, 0),
      rss_mb_per_vm: round(rss, 0),
      guest_ram_mb: 512,
      disk_ratio_10_vs_1: round(ten / one, 3),
      disk_one_machine_mb: round(one / 1048576, 1),
      disk_ten_machines_mb: round(ten / 1048576, 1),
    };
  } finally {
    await srv.stop();
  }
}

export { run_ as run };
