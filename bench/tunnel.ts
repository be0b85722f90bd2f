import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from '@/server/integration/harness';
import { round } from './stats';

async function finished(api: ApiClient, job: Job, ms = 300_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function must(argv: string[], env: Record<string, string>, timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  const r = await run(argv, { env, timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.slice(0, 3).join(' ')}... failed (${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  return performance.now() - t0;
}

/**
 * OpenSSH through Hangar's tunnel (`hangar ssh --stdio` as ProxyCommand, websocket to the server,
 * the guest's sshd) against the same client to the same sshd directly (the VM's forwarded port, a
 * NAT container's address), in the same run: 100 MB by scp each way round, and new connections.
 */
export async function run_() {
  const srv = await startServer({ env: process.env.HANGAR_CACHE ? { HANGAR_CACHE: process.env.HANGAR_CACHE } : {} });
  const api = client(srv.url, await adminToken(srv.url));
  try {
    return await measureAll(srv, api);
  } finally {
    // Machines outlive their server: destroyed first, then the server and its data dir go.
    await tearDown(srv, api);
  }
}

async function measureAll(srv: RunningServer, api: ApiClient) {
  {
    const token = (await api.tokens.create({ name: 'tunnel-bench', role: 'admin' })).secret;
    await finished(api, await api.images.build({ kind: 'debian-12' }), 20 * 60_000);
    const home = path.join(srv.dataDir, 'tmp', 'tunnel-bench');
    fs.mkdirSync(home, { recursive: true });
    const key = path.join(home, 'id_ed25519');
    await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], {});
    await api.sshKeys.add({ publicKey: fs.readFileSync(`${key}.pub`, 'utf8'), name: 'bench' });
    const env = { XDG_CONFIG_HOME: path.join(home, 'cfg'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const cfg = path.join(home, 'ssh_config');
    const file = path.join(home, 'f100');
    await must(['dd', 'if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=100', 'status=none'], {});
    const mb = fs.statSync(file).size / 2 ** 20;
    const opts = ['-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'];
    const direct = (port: number, host = '127.0.0.1') => [
      ...opts,
      '-o',
      `UserKnownHostsFile=${path.join(home, 'direct_known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      `Port=${port}`,
      `root@${host}`,
    ];

    /** One machine: the tunnel and the direct way, alternated so that host noise falls on both. */
    async function measure(name: string, directArgs: string[]) {
      await must([process.execPath, 'dist/cli.js', 'ssh-config', '--file', cfg], env);
      const viaTunnel = ['-F', cfg, ...opts, '-o', 'StrictHostKeyChecking=yes'];
      const host = `hangar.${name}`;
      // Keys reach the guest in the background after the add: wait for them.
      for (let i = 0; ; i++) {
        if ((await run(['ssh', ...viaTunnel, host, 'true'], { env, timeoutMs: 30_000 })).code === 0) break;
        if (i > 60) throw new Error(`ssh to ${host} never worked`);
        await new Promise((r) => setTimeout(r, 500));
      }
      await must(['ssh', ...directArgs, 'true'], env);
      const target = directArgs[directArgs.length - 1];
      const scpDirect = directArgs.slice(0, -1);
      const tun: number[] = [];
      const dir: number[] = [];
      for (let i = 0; i < 2; i++) {
        tun.push(mb / ((await must(['scp', '-q', ...viaTunnel, file, `${host}:/root/f100`], env)) / 1000));
        dir.push(mb / ((await must(['scp', '-q', ...scpDirect, file, `${target}:/root/f100`], env)) / 1000));
      }
      const conTun: number[] = [];
      const conDir: number[] = [];
      for (let i = 0; i < 5; i++) {
        conTun.push(await must(['ssh', ...viaTunnel, host, 'true'], env));
        conDir.push(await must(['ssh', ...directArgs, 'true'], env));
      }
      return { tunnel: Math.max(...tun), direct: Math.max(...dir), connect: median(conTun), connectDirect: median(conDir) };
    }

    const out: Record<string, unknown> = {};
    // A container on the NAT network: its sshd answers on its own address too, the direct way to compare with.
    try {
      await finished(api, await api.machines.create({ name: 'bench-ct', image: 'debian-12', driver: 'nspawn', network: 'nat', memoryMib: 512 }));
      const ct = await api.machines.get('bench-ct');
      const c = await measure('bench-ct', direct(22, ct.address!));
      Object.assign(out, {
        ct_scp_mb_s: round(c.tunnel, 1),
        ct_scp_direct_mb_s: round(c.direct, 1),
        ct_scp_ratio: round(c.tunnel / c.direct, 2),
        ct_ssh_connect_ms: Math.round(c.connect),
        ct_ssh_connect_direct_ms: Math.round(c.connectDirect),
      });
      await finished(api, await api.machines.destroy('bench-ct'));
    } catch (err) {
      out.ct_error = (err as Error).message;
    }
    // The VM: on a loaded host its first boot may miss the ready limit (90 s with nothing on its console, 5 minutes in all); a start gets it up.
    try {
      const made = await jobDone(api, await api.machines.create({ name: 'bench-vm', image: 'debian-12', cpus: 2, memoryMib: 1024, diskGib: 3 }), 330_000);
      if (made.state !== 'succeeded') await finished(api, await api.machines.act('bench-vm', 'start'));
      const vm = await api.machines.get('bench-vm');
      const v = await measure('bench-vm', direct(vm.ssh!.port!));
      Object.assign(out, {
        scp_mb_s: round(v.tunnel, 1),
        scp_direct_mb_s: round(v.direct, 1),
        scp_ratio: round(v.tunnel / v.direct, 2),
        ssh_connect_ms: Math.round(v.connect),
        ssh_connect_direct_ms: Math.round(v.connectDirect),
      });
    } catch (err) {
      out.vm_error = (err as Error).message;
    }
    return {
      ...out,
      note:
        "scp of 100 MB of random data (best of 2) through `ssh-config`'s ProxyCommand (hangar ssh --stdio: websocket to the " +
        "server, then the guest's sshd) vs the same scp to the same sshd directly (the VM's forwarded loopback port; the NAT " +
        "container's address); ssh_connect_ms: median of 5 new `ssh hangar.NAME true` (a new CLI process each: node start-up " +
        'included) vs the same to the sshd directly. VMs run under TCG here: their sshd is the bottleneck both ways.',
    };
  }
}

export { run_ as run };
