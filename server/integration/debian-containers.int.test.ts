import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { adminToken, client, connected, jobDone, serialConsole, socket, startServer, statsWhere, until, type RunningServer, tearDown } from './harness';
import { testTempDir } from './temp-dir';

/**
 * Containers on the debian-12 root filesystem: nspawn OS and application containers (overlay
 * layers, cgroup figures, the freezer, a server restart, snapshots, `hangar run`, host and NAT
 * networks, `hangar probe`) and podman. The image is the one debian.int.test.ts built in this
 * lane (it runs first: vitest.config.ts), copied from the test tier's cache; alone, this file
 * builds it.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const sockets: Socket[] = [];
const finished = (job: Job, ms?: number) => jobDone(api, job, ms);

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  const built = await finished(await api.images.build({ kind: 'debian-12' }), 1_200_000);
  if (built.error) throw new Error(`debian-12: ${built.error}`);
}, 1_260_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

/** A small .deb: a unit serving HTTP on 18090 with perl (perl-base is in every Debian), started by its postinst. */
function makeDeb(dir: string): string {
  const root = path.join(dir, 'pkg');
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(root, 'lib/systemd/system'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'DEBIAN/control'),
    'Package: hangar-hello\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Hangar ' +
      '<hangar@example.org>\nDepends: perl-base\nDescription: a probe test package\n',
  );
  fs.writeFileSync(path.join(root, 'DEBIAN/postinst'), '#!/bin/sh\nset -e\nsystemctl enable --now hangar-hello.service || true\n', { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'usr/lib/hangar-hello'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'usr/lib/hangar-hello/serve.pl'),
    'use IO::Socket::INET;\nmy $s = IO::Socket::INET->new(LocalPort => 18090, Listen => 5, ReuseAddr => ' +
      '1) or die;\nwhile (my $c = $s->accept) { print $c "HTTP/1.0 200 OK\\r\\n\\r\\nhello\\n"; close $c ' +
      '}\n',
  );
  fs.writeFileSync(
    path.join(root, 'lib/systemd/system/hangar-hello.service'),
    '[Service]\nExecStart=/usr/bin/perl /usr/lib/hangar-hello/serve.pl\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  const out = path.join(dir, 'hangar-hello_1.0-1_all.deb');
  const r = spawnSync('dpkg-deb', ['--build', '--root-owner-group', root, out]);
  if (r.status !== 0) throw new Error(`dpkg-deb: ${r.stderr}`);
  return out;
}

describe('nspawn containers on the debian-12 root filesystem', () => {
  // This server's containers only: other test servers on the host (another checkout's run) may have a ct- of their own.
  const ps = () =>
    run(['ps', '-eo', 'args']).then((r) =>
      r.stdout.split('\n').filter((l) => l.startsWith('systemd-nspawn') && l.includes('--machine=ct-') && l.includes(srv.dataDir)),
    );

  it('boots an OS container with systemd on an overlay: private network, exec through nsenter, its own writable layer', async () => {
    await expect(api.machines.create({ name: 'ct-bad', image: 'busybox', driver: 'nspawn' })).rejects.toMatchObject({ status: expect.any(Number) });
    const job = await api.machines.create({ name: 'ct-1', image: 'debian-12', driver: 'nspawn', memoryMib: 256 });
    const done = await finished(job, 60_000);
    expect(done.error).toBeNull();
    expect(await api.machines.get('ct-1')).toMatchObject({ state: 'running', driver: 'nspawn' });
    const r = await api.machines.exec('ct-1', ['sh', '-c', 'hostname; ls /sys/class/net; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'ct-1\nlo\n', stderr: 'err\n' });
    expect((await api.machines.exec('ct-1', ['systemctl', 'is-system-running', '--wait'], 60)).stdout.trim()).toMatch(/^(running|degraded)$/);
    await api.machines.exec('ct-1', ['sh', '-c', 'echo mine > /root/ct-1-file']);
    await finished(await api.machines.create({ name: 'ct-2', image: 'debian-12', driver: 'nspawn', memoryMib: 256 }), 60_000);
    expect((await api.machines.exec('ct-2', ['sh', '-c', 'cat /root/ct-1-file 2>/dev/null; hostname'])).stdout).toBe('ct-2\n');
    // Copy-on-write: the image's root is untouched; each container's changes are in its upper dir.
    const rootfs = path.join(srv.dataDir, 'images', 'debian-12', 'rootfs');
    expect(fs.existsSync(path.join(rootfs, 'root/ct-1-file'))).toBe(false);
    const ct1 = (await api.machines.get('ct-1')).id;
    expect(fs.readFileSync(path.join(srv.dataDir, 'machines', ct1, 'upper/root/ct-1-file'), 'utf8')).toBe('mine\n');
    expect(await ps()).toHaveLength(2);
  }, 180_000);

  it('has live figures from its cgroups: CPU, memory against its limit, writes, its writable layer, no traffic on a private network', async () => {
    const ct1 = (await api.machines.get('ct-1')).id;
    const s = socket(srv.url, '/events', { token });
    sockets.push(s);
    await connected(s);
    const first = await statsWhere(s, ct1, (x) => x.cpuPct !== null, 'a container sample with rates');
    expect(first.memBytes).toBeGreaterThan(1 * 2 ** 20);
    expect(first.memLimitBytes).toBe(256 * 2 ** 20);
    expect(first.diskUsedBytes).toBeGreaterThan(0);
    // Only loopback in its namespace: nothing goes in or out, and that is known (0, not unknown).
    expect(first.netRxBps).toBe(0);
    // A service of the container writes (its I/O is counted in the processes that reap it, inside the container).
    const writes = statsWhere(s, ct1, (x) => (x.diskWriteBps ?? 0) > 1_000_000, 'writes of a container');
    expect(
      (await api.machines.exec('ct-1', ['systemd-run', '--wait', '--quiet', 'dd', 'if=/dev/zero', 'of=/root/big', 'bs=1M', 'count=32', 'conv=fsync'], 60)).code,
    ).toBe(0);
    expect((await writes).diskWriteBps).toBeGreaterThan(1_000_000);
    // A command run through exec is in the container's cgroups: its CPU counts (and its limits hold).
    // The loop spins until a sample shows it (an idle container is at 0-2%; on a host busy with other work
    // the loop may get well under a core, so the bar is what tells it from idle, not a full core).
    const busy = statsWhere(s, ct1, (x) => (x.cpuPct ?? 0) > 15, 'a busy container', 30_000);
    const spin = api.machines.exec('ct-1', ['timeout', '30', 'sh', '-c', 'echo $$ > /run/spin.pid; while :; do :; done']);
    expect((await busy).cpuPct).toBeGreaterThan(15);
    await api.machines.exec('ct-1', ['sh', '-c', 'kill "$(cat /run/spin.pid)"']);
    await spin;
    expect((await api.machines.exec('ct-1', ['cat', '/proc/self/cgroup'])).stdout).toContain('hangar-exec');
    await api.machines.exec('ct-1', ['rm', '/root/big']);
    s.disconnect();
  }, 120_000);

  it('has a console from the first line through the holder, typed into like a serial line', async () => {
    const ct1 = (await api.machines.get('ct-1')).id;
    const con = await serialConsole(srv.url, token, ct1, 'it-ct-console-1', sockets);
    expect(con.reply).toMatchObject({ ok: true, mode: 'interactive' });
    expect(con.text()).toMatch(/systemd/);
    con.type('echo in-ct-$((6*7))\n');
    await con.waitFor('in-ct-42');
  }, 60_000);

  it('pauses and resumes with the cgroup freezer, survives a server restart, stops cleanly and starts again', async () => {
    await finished(await api.machines.act('ct-1', 'pause'));
    expect((await api.machines.get('ct-1')).state).toBe('paused');
    await finished(await api.machines.act('ct-1', 'resume'));
    expect((await api.machines.exec('ct-1', ['true'])).code).toBe(0);
    await srv.stop();
    srv = await startServer({ dataDir: srv.dataDir, ownDataDir: srv.owned, env: { HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache') } });
    api = client(srv.url, token);
    expect((await api.machines.get('ct-1')).state).toBe('running');
    expect((await api.machines.exec('ct-1', ['cat', '/root/ct-1-file'])).stdout).toBe('mine\n');
    const stop = await finished(await api.machines.act('ct-1', 'stop', { timeoutS: 30 }));
    expect((await api.jobs.logs(stop.id)).items.map((l) => l.line)).toContain('guest powered off cleanly');
    expect(await ps()).toHaveLength(1);
    expect((await finished(await api.machines.act('ct-1', 'start'), 60_000)).error).toBeNull();
    expect((await api.machines.exec('ct-1', ['cat', '/root/ct-1-file'])).stdout).toBe('mine\n');
  }, 180_000);

  it('checkpoints the files of a container into the snapshot tree, forks and restores from it, stacking layers', async () => {
    await api.machines.exec('ct-2', ['sh', '-c', 'echo one > /root/f1']);
    const cp = await finished(await api.snapshots.checkpoint('ct-2', 'ct-c1'));
    const snap = await api.snapshots.get((cp.result as { snapshot: string }).snapshot);
    expect(snap).toMatchObject({ kind: 'disk', driver: 'nspawn', state: 'complete', machines: [{ name: 'ct-2' }] });
    expect(snap.pauseMs).toBeGreaterThanOrEqual(0);
    await api.machines.exec('ct-2', ['sh', '-c', 'echo two > /root/f2; rm /root/f1']);
    await finished(await api.snapshots.fork(snap.id, { count: 2, namePrefix: 'ctf' }), 120_000);
    for (const n of ['ctf-1', 'ctf-2']) expect((await api.machines.exec(n, ['sh', '-c', 'hostname; cat /root/f1; ls /root'])).stdout).toBe(`${n}\none\nf1\n`);
    // A fork's own checkpoint stacks on the first: a fork of it sees both layers.
    await api.machines.exec('ctf-1', ['sh', '-c', 'echo fork > /root/f3']);
    const c2 = (await finished(await api.snapshots.checkpoint('ctf-1', 'ct-c2'))).result as { snapshot: string };
    await finished(await api.snapshots.fork(c2.snapshot, { count: 1, namePrefix: 'ctg' }), 120_000);
    expect((await api.machines.exec('ctg-1', ['cat', '/root/f1', '/root/f3'])).stdout).toBe('one\nfork\n');
    // Restore: back to the files at the checkpoint (f1 back, f2 gone), the state it left kept as a snapshot.
    await finished(await api.snapshots.restore(snap.id, {}), 120_000);
    expect((await api.machines.exec('ct-2', ['ls', '/root'])).stdout).toBe('f1\n');
    expect((await api.snapshots.list()).items.some((x) => x.label === 'ct-2 before restore' && x.parentId === snap.id)).toBe(true);
    await expect(api.snapshots.remove(snap.id)).rejects.toMatchObject({ status: 409 });
    // GC keeps every layer a container stands on.
    const layers = fs.readdirSync(path.join(srv.dataDir, 'layers'));
    await api.snapshots.gc();
    expect(fs.readdirSync(path.join(srv.dataDir, 'layers'))).toEqual(layers);
    expect((await api.machines.exec('ctg-1', ['cat', '/root/f1'])).stdout).toBe('one\n');
    for (const n of ['ctf-1', 'ctf-2', 'ctg-1']) await finished(await api.machines.destroy(n));
  }, 300_000);

  it('hangar run: a throwaway container runs a command (exit code through) or a shell on a tty, and --rm removes it', async () => {
    const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-run-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const cmd = await run(
      [process.execPath, 'dist/cli.js', 'run', '--rm', '--name', 'run-a', 'debian-12', '--', 'sh', '-c', 'echo hi from $(hostname); echo oops >&2; exit 7'],
      { env, timeoutMs: 90_000 },
    );
    expect(cmd).toMatchObject({ code: 7, stdout: 'hi from run-a\n', stderr: 'oops\n' });
    const it = await run(
      [process.execPath, 'dist/cli.js', 'run', '-it', '--rm', '--name', 'run-b', 'debian-12', '--', 'sh', '-c', 'test -t 0 && echo on-a-tty; exit 3'],
      { env, input: '', timeoutMs: 90_000 },
    );
    expect(it.code).toBe(3);
    expect(it.stdout).toContain('on-a-tty');
    const names = (await api.machines.list()).items.map((m) => m.name);
    expect(names).not.toContain('run-a');
    expect(names).not.toContain('run-b');
    const unit = await run([process.execPath, 'dist/cli.js', 'unit', 'ct-1'], { env, timeoutMs: 30_000 });
    expect(unit.code).toBe(0);
    expect(unit.stdout).toMatch(/^ExecStart=systemd-nspawn --quiet --boot .*--machine=ct-1 /m);
    // A VM has no unit: a busybox one, made stopped, is enough to be refused.
    expect((await finished(await api.images.build({ kind: 'busybox' }), 300_000)).error).toBeNull();
    expect((await finished(await api.machines.create({ name: 'vm-unit', image: 'busybox', memoryMib: 64, start: false }))).error).toBeNull();
    expect(await run([process.execPath, 'dist/cli.js', 'unit', 'vm-unit'], { env, timeoutMs: 30_000 })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('only nspawn containers'),
    });
    const bad = await run([process.execPath, 'dist/cli.js', 'run', '--driver', 'lxc', 'debian-12', '--', 'true'], { env, timeoutMs: 30_000 });
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--driver: one of qemu, nspawn, podman') });
  }, 200_000);

  it('application containers: one command without init, output streamed apart, exit code kept, start runs it again', async () => {
    const events: string[] = [];
    const last = await api.machines.runOnce(
      { image: 'debian-12', name: 'app-a', rm: false, argv: ['sh', '-c', 'echo $$ out; echo err >&2; echo kept > /f; exit 4'] },
      (e) => events.push(e.t === 'stdout' || e.t === 'stderr' ? `${e.t}:${e.d}` : e.t),
    );
    // --as-pid2: the command is PID 2 under nspawn's stub init, not systemd.
    expect(events).toEqual(['start', 'stdout:2 out\n', 'stderr:err\n', 'exit']);
    expect(last).toMatchObject({ t: 'exit', code: 4, removed: false });
    expect(await api.machines.get('app-a')).toMatchObject({
      state: 'stopped',
      stateReason: 'The command exited with code 4.',
      command: ['sh', '-c', expect.any(String)],
    });
    // Kept: a machine like any other; start runs the command again on the same files.
    await finished(await api.machines.act('app-a', 'start'));
    await until(async () => (await api.machines.get('app-a')).state === 'stopped', 'the command to end again', 15_000);
    expect((await api.machines.get('app-a')).stateReason).toBe('The command exited with code 4.');
    const id = (await api.machines.get('app-a')).id;
    expect(fs.readFileSync(path.join(srv.dataDir, 'machines', id, 'upper', 'f'), 'utf8')).toBe('kept\n');
    // Its output is the console log: hangar logs shows it, -n the tail, and an offset follows on.
    const logs = await api.machines.logs('app-a');
    expect(logs.text).toContain('2 out');
    expect((await api.machines.logs('app-a', { from: logs.next })).text).toBe('');
    const cliEnv = { XDG_CONFIG_HOME: testTempDir('hangar-cli-logs-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    expect(await run([process.execPath, 'dist/cli.js', 'logs', 'app-a', '-n', '4000'], { env: cliEnv, timeoutMs: 30_000 })).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('2 out'),
    });
    await finished(await api.machines.destroy('app-a'));

    // The caller going away kills the command, and --rm still removes the container.
    const ctl = new AbortController();
    const res = await fetch(`${srv.url}/api/machines/run`, {
      method: 'POST',
      signal: ctl.signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'debian-12', name: 'app-c', argv: ['sleep', '300'] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    ctl.abort();
    await until(async () => !(await api.machines.list()).items.some((m) => m.name === 'app-c'), 'the abandoned run to be removed', 15_000);
    expect(await ps()).not.toContainEqual(expect.stringContaining('--machine=app-c'));

    // Limits are the container cgroup's and enforced: past 64 MiB the command is killed.
    expect(await api.machines.runOnce({ image: 'debian-12', memoryMib: 64, argv: ['sh', '-c', 'tail /dev/zero'] }, () => undefined)).toMatchObject({
      t: 'exit',
      code: 137,
    });
    expect(
      await api.machines.runOnce({ image: 'debian-12', memoryMib: 64, argv: ['sh', '-c', 'head -c 20000000 /dev/zero | wc -c'] }, () => undefined),
    ).toMatchObject({ t: 'exit', code: 0 });

    // Refused before anything runs: a command for a VM, an unknown image, an empty argv.
    await expect(api.machines.create({ name: 'app-vm', image: 'debian-12', driver: 'qemu', command: ['true'] })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.runOnce({ image: 'no-such-image', argv: ['true'] }, () => undefined)).rejects.toMatchObject({ status: 404 });
    await expect(api.machines.runOnce({ image: 'debian-12', argv: [] }, () => undefined)).rejects.toMatchObject({ status: 400 });
    expect((await api.machines.list()).items.filter((m) => m.name.startsWith('app-'))).toEqual([]);
  }, 120_000);

  it('puts a container on the host network on request, with its sshd kept off the host port', async () => {
    await finished(await api.machines.create({ name: 'ct-host', image: 'debian-12', driver: 'nspawn', network: 'host' }), 60_000);
    expect((await api.machines.get('ct-host')).network).toBe('host');
    expect((await api.machines.get('ct-1')).network).toBe('private');
    const r = await api.machines.exec('ct-host', ['sh', '-c', 'ls /sys/class/net | grep -vx lo | wc -l; systemctl is-active ssh']);
    expect(Number(r.stdout.split('\n')[0])).toBeGreaterThan(0);
    expect(r.stdout.split('\n')[1]).not.toBe('active');
    await finished(await api.machines.destroy('ct-host'));
  }, 90_000);

  it('NAT network: its own address and default route, the host reachable through it, a port forward, nothing left after destroy', async () => {
    const hostSide = await new Promise<net.Server>((resolve) => {
      const srv2 = net.createServer((c) => c.end('hello from the host\n'));
      srv2.listen(0, '0.0.0.0', () => resolve(srv2));
    });
    const hostPort = (hostSide.address() as net.AddressInfo).port;
    try {
      const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-nat-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
      const made = await run(
        [process.execPath, 'dist/cli.js', 'create', 'ct-nat', '--image', 'debian-12', '--driver', 'nspawn', '--network', 'nat', '-p', '18480:8000'],
        { env, timeoutMs: 90_000 },
      );
      expect(made.code, made.stderr).toBe(0);
      const m = await api.machines.get('ct-nat');
      expect(m).toMatchObject({ network: 'nat', address: expect.stringMatching(/^10\.213\.\d+\.\d+$/), ports: [{ host: 18480, guest: 8000 }] });
      const gw = m.address!.replace(/\d+$/, (d) => String(Number(d) - 1));
      const r = await api.machines.exec(
        'ct-nat',
        ['bash', '-c', `ip -4 -br addr show host0; ip route show default; exec 3<>/dev/tcp/${gw}/${hostPort}; cat <&3`],
        30,
      );
      expect(r.stdout).toContain(`${m.address}/30`);
      expect(r.stdout).toContain(`default via ${gw} dev host0`);
      expect(r.stdout).toContain('hello from the host');
      // perl-base is in every Debian: a one-line TCP server on the forwarded port.
      const perl =
        'my $s = IO::Socket::INET->new(LocalPort => 8000, Listen => 5, ReuseAddr => 1) or die; while (my $c ' +
        '= $s->accept) { print $c "hello from the container\\n"; close $c }';
      await api.machines.exec('ct-nat', ['sh', '-c', 'setsid -f "$@" >/dev/null 2>&1 </dev/null', 'x', 'perl', '-MIO::Socket::INET', '-e', perl]);
      await until(
        async () => (await run(['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/18480 && cat <&3'], { timeoutMs: 5000 })).stdout.includes('hello from the container'),
        'the forwarded port to answer',
        15_000,
      );
      // Its own rule only: another lane's server may have NAT containers of its own on this host.
      const rule = `-s ${m.address!.replace(/\d+$/, (d) => String(Number(d) - 2))}/30`;
      expect((await run(['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).stdout).toContain(rule);
      await finished(await api.machines.destroy('ct-nat'));
      expect((await run(['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).stdout).not.toContain(rule);
      expect(fs.readdirSync(path.join(srv.dataDir, 'net', 'leases'))).toEqual([]);
      expect((await run(['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/18480'], { timeoutMs: 5000 })).code).not.toBe(0);
      // Forwards need an address; podman has no NAT here.
      await expect(
        api.machines.create({ name: 'ct-nat2', image: 'debian-12', driver: 'nspawn', ports: [{ host: 18481, guest: 80, protocol: 'tcp' }] }),
      ).rejects.toMatchObject({ status: 400 });
      await expect(api.machines.create({ name: 'ct-nat2', image: 'debian-12', driver: 'podman', network: 'nat' })).rejects.toMatchObject({ status: 400 });
    } finally {
      hostSide.close();
    }
  }, 120_000);

  it('hangar probe: installs a package in a throwaway container, checks its unit and URL, reports, removes it', async () => {
    const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-probe-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const ok = await run(
      [process.execPath, 'dist/cli.js', '--json', 'probe', '--package', 'nginx', '--check-unit', 'nginx', '--check-network', 'http://127.0.0.1:80/'],
      { env, timeoutMs: 600_000 },
    );
    expect(ok.code, ok.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      packages: [{ name: 'nginx', version: expect.stringMatching(/^1\./) }],
      unit: { name: 'nginx', state: 'active' },
      network: { status: 200 },
    });
    const bad = await run([process.execPath, 'dist/cli.js', 'probe', '--package', 'no-such-package-xyz'], { env, timeoutMs: 600_000 });
    expect(bad).toMatchObject({ code: 1, stdout: expect.stringContaining('no-such-package-xyz: not installed') });
    expect((await api.machines.list()).items.filter((m) => m.name.startsWith('probe-'))).toEqual([]);
    await expect(api.probes.start({ packages: ['nginx; rm -rf /'] })).rejects.toMatchObject({ status: 400 });

    // A local .deb: uploaded, installed with its dependencies from the mirror, its unit and port checked.
    const deb = makeDeb(testTempDir('hangar-deb-'));
    const local = await run(
      [process.execPath, 'dist/cli.js', '--json', 'probe', '--package', deb, '--check-unit', 'hangar-hello', '--check-network', 'http://127.0.0.1:18090/'],
      { env, timeoutMs: 600_000 },
    );
    expect(local.code, local.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({
      ok: true,
      packages: [{ name: 'hangar-hello', version: '1.0-1' }],
      unit: { state: 'active' },
      network: { status: 200 },
    });
    const notDeb = path.join(path.dirname(deb), 'fake.deb');
    fs.writeFileSync(notDeb, 'not a package');
    expect(await run([process.execPath, 'dist/cli.js', 'probe', '--package', notDeb], { env, timeoutMs: 60_000 })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Not a Debian binary package'),
    });
    await expect(api.probes.start({ uploads: ['upl_doesnotexist1'] })).rejects.toMatchObject({ status: 404 });
    expect((await api.machines.list()).items.filter((m) => m.name.startsWith('probe-'))).toEqual([]);
  }, 900_000);

  it('destroys containers without leaving a process, a directory or a cgroup behind', async () => {
    const ids = [(await api.machines.get('ct-1')).id, (await api.machines.get('ct-2')).id];
    for (const n of ['ct-1', 'ct-2']) await finished(await api.machines.destroy(n));
    expect(await ps()).toEqual([]);
    for (const id of ids) {
      expect(fs.existsSync(path.join(srv.dataDir, 'machines', id))).toBe(false);
      // Named by the id and the node's tag (nspawn/runtime.ts cgroupFor), or the id alone (older starts).
      for (const root of ['/sys/fs/cgroup/unified/hangar', '/sys/fs/cgroup/hangar', '/sys/fs/cgroup/systemd/hangar'])
        expect(fs.existsSync(root) ? fs.readdirSync(root).filter((d) => d.startsWith(id)) : []).toEqual([]);
    }
  }, 60_000);
});

describe('podman containers on the debian-12 root filesystem', () => {
  it('imports the root filesystem, runs a shell container with a console, exec, pause, stop, start and destroy', async () => {
    const podman = ['podman', '--runtime', 'runc', '--cgroup-manager=cgroupfs'];
    // An import of an earlier build: the new import replaces it.
    expect(
      (await run(['sh', '-c', 'tar -cf - -T /dev/null | "$@"', 'sh', ...podman, 'import', '-', 'localhost/hangar-debian-12:stale'], { timeoutMs: 60_000 }))
        .code,
    ).toBe(0);
    const done = await finished(await api.machines.create({ name: 'pd-1', image: 'debian-12', driver: 'podman' }), 300_000);
    expect(done.error).toBeNull();
    const tags = (await run([...podman, 'images', '--format', '{{.Tag}}', 'localhost/hangar-debian-12'])).stdout.split('\n').filter(Boolean);
    expect(tags).toHaveLength(1);
    expect(tags[0]).not.toBe('stale');
    expect(await api.machines.exec('pd-1', ['sh', '-c', 'hostname; ls /sys/class/net; exit 4'])).toMatchObject({ code: 4, stdout: 'pd-1\nlo\n' });
    const id = (await api.machines.get('pd-1')).id;
    // Live figures from the cgroups podman made for it, found through its main process.
    const events = socket(srv.url, '/events', { token });
    sockets.push(events);
    await connected(events);
    const sample = await statsWhere(events, id, (x) => x.cpuPct !== null && (x.memBytes ?? 0) > 0, 'a podman container sample');
    expect(sample.netRxBps).toBe(0);
    events.disconnect();
    const con = await serialConsole(srv.url, token, id, 'it-podman-console-1', sockets);
    con.type('echo pod-$((6*7))\n');
    await con.waitFor('pod-42');
    await finished(await api.machines.act('pd-1', 'pause'));
    expect((await api.machines.get('pd-1')).state).toBe('paused');
    await finished(await api.machines.act('pd-1', 'resume'));
    // Filesystem checkpoints by podman commit (live ones would need CRIU): fork and restore from them.
    await api.machines.exec('pd-1', ['sh', '-c', 'echo kept > /root/f1']);
    const cp = await finished(await api.snapshots.checkpoint('pd-1', 'pd-c1'));
    const snap = await api.snapshots.get((cp.result as { snapshot: string }).snapshot);
    expect(snap).toMatchObject({ kind: 'disk', driver: 'podman', state: 'complete' });
    expect(snap.sizeBytes).toBeGreaterThan(0);
    await api.machines.exec('pd-1', ['rm', '/root/f1']);
    await finished(await api.snapshots.fork(snap.id, { count: 1, namePrefix: 'pdf' }), 120_000);
    expect((await api.machines.exec('pdf-1', ['cat', '/root/f1'])).stdout).toBe('kept\n');
    expect((await finished(await api.machines.destroy('pdf-1'))).error).toBeNull();
    await finished(await api.snapshots.restore(snap.id, { checkpointFirst: false }), 120_000);
    expect((await api.machines.exec('pd-1', ['cat', '/root/f1'])).stdout).toBe('kept\n');
    const stop = await finished(await api.machines.act('pd-1', 'stop', { timeoutS: 10 }));
    expect(stop.error).toBeNull();
    expect((await finished(await api.machines.act('pd-1', 'start'))).error).toBeNull();
    expect((await api.machines.exec('pd-1', ['true'])).code).toBe(0);
    await finished(await api.machines.destroy('pd-1'));
    expect((await run(['podman', '--runtime', 'runc', '--cgroup-manager=cgroupfs', 'ps', '-a', '--format', '{{.Names}}'])).stdout).not.toContain(
      `hangar-${id}`,
    );
    // No console holder outlives its machine (one once did, when its dir was removed under it).
    await until(
      async () =>
        !(await run(['ps', '-eo', 'args'])).stdout.split('\n').some((l) => l.includes('holder.js') && (l.includes(id) || l.includes('--hostname pdf-1'))),
      'the holders to end',
      15_000,
    );
    // Deleting the snapshot removes its committed image.
    const snapImages = () =>
      run(['podman', '--runtime', 'runc', '--cgroup-manager=cgroupfs', 'images', '--format', '{{.Repository}}']).then(
        (r) => r.stdout.split('\n').filter((l) => l.includes('hangar-snap-')).length,
      );
    const before = await snapImages();
    expect(before).toBeGreaterThan(0);
    await api.snapshots.remove(snap.id);
    expect(await snapImages()).toBe(before - 1);
    // hangar run --driver podman: podman run --rm with the machine's limits, output and exit code through.
    const out: string[] = [];
    expect(
      await api.machines.runOnce({ image: 'debian-12', driver: 'podman', argv: ['sh', '-c', 'echo pod; exit 3'] }, (e) => e.t === 'stdout' && out.push(e.d)),
    ).toMatchObject({ t: 'exit', code: 3, removed: true });
    expect(out.join('')).toBe('pod\n');
    expect(
      await api.machines.runOnce({ image: 'debian-12', driver: 'podman', memoryMib: 64, argv: ['sh', '-c', 'tail /dev/zero'] }, () => undefined),
    ).toMatchObject({ t: 'exit', code: 137 });
  }, 400_000);
});
