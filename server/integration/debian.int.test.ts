import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { AttachReply, ConsoleExit, ConsoleOutput } from '@/lib/contracts/console';
import type { Job } from '@/lib/contracts/jobs';
import type { BuildResult } from '@/lib/contracts/steps';
import { run } from '@/server/drivers/exec';
import { opensshSuite } from './openssh';
import { adminToken, client, connected, jobDone, serialConsole, socket, startServer, until, type RunningServer, tearDown } from './harness';
import { testTempDir } from './temp-dir';

/**
 * The debian-12 image end to end: debootstrap from the host's apt mirror, boot with systemd,
 * root's key injected, SSH exec, an SSH terminal over /console, `hangar ssh`, ACPI shutdown.
 * debian-13 is built at the same time (two debootstraps, each mostly downloads and one dpkg at a
 * time, share the 2 cores better than one after the other) and tested once debian-12's VM is done:
 * a command in it, booted as an OS container, a step chain from it.
 * Downloaded packages are shared between runs through HANGAR_CACHE. Runs first in its lane
 * (vitest.config.ts): containers on the debian-12 tree (debian-containers.int.test.ts) and the
 * other Debian files copy the image it builds.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
let build12: Job;
let build13: Job;
const sockets: Socket[] = [];
const finished = (job: Job, ms?: number) => jobDone(api, job, ms);
/** The job ended without an error; when it did not, its last log lines (the guest's console among them) say why. */
const succeeded = async (job: Job, ms?: number) => {
  const logTail = async () =>
    (await api.jobs.logs(job.id)).items
      .map((l) => l.line)
      .slice(-25)
      .join('\n');
  const done = await finished(job, ms).catch(async (err: Error) => {
    throw new Error(`${err.message}; its log so far:\n${await logTail()}`);
  });
  expect(done.error, done.error ? await logTail() : '').toBeNull();
};
const cliEnv = () => ({ XDG_CONFIG_HOME: path.join(os.tmpdir(), 'hangar-cli-deb-none'), HANGAR_URL: srv.url, HANGAR_TOKEN: token });
const cli = (args: string[], timeoutMs = 120_000) => run([process.execPath, 'dist/cli.js', ...args], { env: cliEnv(), timeoutMs });

beforeAll(async () => {
  // This file tests the build itself: never a copy kept by another test server (but the others may copy its build).
  srv = await startServer({ env: { HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache'), HANGAR_TEST_IMAGE_CACHE_FILL_ONLY: '1' } });
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  build12 = await api.images.build({ kind: 'debian-12' });
  build13 = await api.images.build({ kind: 'debian-13' });
}, 60_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

describe('debian-12 image and SSH', () => {
  let id: string;

  it(
    'builds the image with debootstrap from the host apt mirror, with progress and logs',
    async () => {
      const job = build12;
      const done = await finished(job, 15 * 60_000);
      const logs = (await api.jobs.logs(job.id)).items.map((l) => l.line);
      expect(done.error, logs.slice(-20).join('\n')).toBeNull();
      expect(logs.some((l) => /^mirror: https?:\/\//.test(l))).toBe(true);
      expect(logs).toContain('I: Base system installed successfully.');
      const img = (await api.images.list()).items.find((i) => i.name === 'debian-12')!;
      expect(img).toMatchObject({ state: 'ready', recipe: expect.objectContaining({ suite: 'bookworm', kernel: expect.stringMatching(/amd64$/) }) });
      const dir = path.join(srv.dataDir, 'images', 'debian-12');
      // Host keys and machine-id are made per machine at first boot, never baked into the image.
      expect(fs.readdirSync(path.join(dir, 'rootfs/etc/ssh')).filter((n) => n.startsWith('ssh_host_'))).toEqual([]);
      expect(fs.readFileSync(path.join(dir, 'rootfs/etc/machine-id'), 'utf8')).toBe('');
    },
    16 * 60_000,
  );

  it('boots to SSH with the machine key; exec runs over SSH with exit codes and verbatim arguments', async () => {
    await expect(api.machines.create({ name: 'tiny', image: 'debian-12', diskGib: 0 })).rejects.toMatchObject({ status: 400 });
    const job = await api.machines.create({ name: 'it-deb', image: 'debian-12', cpus: 2, memoryMib: 768, diskGib: 3 });
    id = job.machineId!;
    // Under TCG beside the debian-13 build and the other lane, a boot can take minutes: the server waits while its
    // console moves, up to 5 minutes (BOOT_WAIT in machine-power.ts).
    await succeeded(job, 330_000);
    const m = await api.machines.get(id);
    expect(m).toMatchObject({ state: 'running', ssh: { user: 'root', port: expect.any(Number) } });
    expect(fs.readFileSync(path.join(srv.dataDir, 'machines', id, 'id_ed25519'), 'utf8')).toContain('PRIVATE KEY');

    const r = await api.machines.exec(id, ['sh', '-c', 'hostname; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'it-deb\n', stderr: 'err\n' });
    const hostile = 'it\'s $(reboot) `id` ; rm -rf / \\ "q"';
    expect((await api.machines.exec(id, ['printf', '%s', hostile])).stdout).toBe(hostile);
    // Root by key only; the machine-id is this machine's own; the filesystem grew to the 3 GiB disk.
    const sshd = (await api.machines.exec(id, ['sshd', '-T'])).stdout;
    expect(sshd).toMatch(/^passwordauthentication no$/m);
    expect(sshd).toMatch(/^permitrootlogin without-password$/m);
    expect((await api.machines.exec(id, ['cat', '/etc/machine-id'])).stdout).toMatch(/^[0-9a-f]{32}\n$/);
    const blocks = Number((await api.machines.exec(id, ['sh', '-c', 'sleep 1; df --output=size -B1M / | tail -1'])).stdout.trim());
    expect(blocks).toBeGreaterThan(2500);
  }, 400_000);

  it('opens an SSH terminal over /console: a pty, resize, and the shell exit code', async () => {
    const s = socket(srv.url, '/console', { token });
    sockets.push(s);
    await connected(s);
    let text = '';
    let exit: ConsoleExit | null = null;
    s.on('output', (m: ConsoleOutput, ack: () => void) => {
      text += m.data;
      ack();
    });
    s.on('exit', (m: ConsoleExit) => (exit = m));
    const sessionId = 'it-ssh-session-1';
    const reply = await new Promise<AttachReply>((resolve) =>
      s.emit('attach', { sessionId, target: { kind: 'machine', machineId: id, channel: 'ssh' }, cols: 100, rows: 30 }, resolve),
    );
    expect(reply).toMatchObject({ ok: true, mode: 'interactive' });
    s.emit('input', { sessionId, data: 'echo tty-$(tty | cut -c1-8) size-$(stty size | tr " " x)\n' });
    await until(() => text.includes('tty-/dev/pts size-30x100'), 'pty with the requested size', 20_000);
    s.emit('resize', { sessionId, cols: 120, rows: 40 });
    await new Promise((r) => setTimeout(r, 300));
    s.emit('input', { sessionId, data: 'stty size | tr " " x; exit 5\n' });
    await until(() => exit !== null, 'shell exit', 20_000);
    expect(text).toContain('40x120');
    expect(exit).toMatchObject({ sessionId, code: 5 });
  }, 60_000);

  it('hangar ssh: a shell from the CLI with the exit code passed through, and hangar ssh NAME -- CMD', async () => {
    const home = testTempDir('hangar-cli-ssh-');
    const env = { XDG_CONFIG_HOME: home, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const shell = await run([process.execPath, 'dist/cli.js', 'ssh', 'it-deb'], { env, input: 'echo via-$((40+2))\nexit 4\n', timeoutMs: 30_000 });
    expect(shell.stdout).toContain('via-42');
    expect(shell.code).toBe(4);
    const cmd = await run([process.execPath, 'dist/cli.js', 'ssh', 'it-deb', '--', 'uname', '-s'], { env, timeoutMs: 30_000 });
    expect(cmd).toMatchObject({ code: 0, stdout: 'Linux\n' });
  }, 60_000);

  it('stops cleanly with an ACPI shutdown, and starts again to SSH', async () => {
    const bootId = (await api.machines.exec(id, ['cat', '/proc/sys/kernel/random/boot_id'])).stdout;
    const stop = await finished(await api.machines.act(id, 'stop', { timeoutS: 60 }));
    expect((await api.jobs.logs(stop.id)).items.map((l) => l.line)).toContain('guest powered off cleanly');
    await succeeded(await api.machines.act(id, 'start'), 330_000);
    // Ready means this boot's marker, not the previous boot's line in the same serial log.
    expect((await api.machines.exec(id, ['cat', '/proc/sys/kernel/random/boot_id'])).stdout).not.toBe(bootId);
    expect((await api.machines.exec(id, ['systemctl', 'is-system-running', '--wait'], 60)).stdout.trim()).toBe('running');
  }, 450_000);
});

// On this file's server and VM (the image is built once): OpenSSH's own client through Hangar's tunnel.
opensshSuite(() => ({ srv, api, vm: 'it-deb' }));

describe('debian-13 (trixie), built alongside debian-12', () => {
  it(
    'builds with debootstrap trixie from the same mirror, and runs a command (run --rm)',
    async () => {
      const done = await finished(build13, 25 * 60_000);
      const logs = (await api.jobs.logs(build13.id)).items.map((l) => l.line);
      expect(done.error, logs.slice(-20).join('\n')).toBeNull();
      expect(logs.some((l) => /^mirror: https?:\/\//.test(l))).toBe(true);
      expect(logs).toContain('I: Base system installed successfully.');
      const img = (await api.images.list()).items.find((i) => i.name === 'debian-13')!;
      expect(img).toMatchObject({ state: 'ready', recipe: expect.objectContaining({ suite: 'trixie', kernel: expect.stringMatching(/amd64$/) }) });
      const dir = path.join(srv.dataDir, 'images', 'debian-13');
      expect(fs.readdirSync(path.join(dir, 'rootfs/etc/ssh')).filter((n) => n.startsWith('ssh_host_'))).toEqual([]);
      expect(fs.readFileSync(path.join(dir, 'rootfs/etc/machine-id'), 'utf8')).toBe('');
      const r = await cli(['run', '--rm', 'debian-13', '--', 'cat', '/etc/os-release']);
      expect([r.code, r.stdout], r.stderr).toEqual([0, expect.stringContaining('VERSION_CODENAME=trixie')]);
    },
    26 * 60_000,
  );

  it('boots as an nspawn OS container: systemd up, a console login, exec', async () => {
    const made = await api.machines.create({ name: 'it-trixie', image: 'debian-13', driver: 'nspawn', memoryMib: 512 });
    const booted = await finished(made, 180_000);
    const log = path.join(srv.dataDir, 'machines', made.machineId!, 'console.log');
    expect(booted.error, fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-3000) : 'no console log').toBeNull();
    const con = await serialConsole(srv.url, token, made.machineId!, 'it-trixie-console', sockets);
    // Root is logged in on the console: agetty's line, or (when login's hangup flushed that) root's prompt.
    await until(() => /login: |root@it-trixie:~# /.test(con.text()), 'a console login', 30_000);
    const os13 = await api.machines.exec(
      'it-trixie',
      ['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME; systemctl is-system-running --wait || true'],
      90,
    );
    expect(os13.stdout).toMatch(/^trixie\n(running|degraded)\n$/);
    expect(await api.machines.exec('it-trixie', ['hostname'])).toMatchObject({ code: 0, stdout: 'it-trixie\n' });
    expect((await finished(await api.machines.destroy('it-trixie'))).error).toBeNull();
  }, 300_000);

  it('hangar build debian-13 + apt hello: on the debian-13 image, hello runs; the same chain again is all from the cache', async () => {
    const chain = ['debian-13', '+', 'apt', 'hello'];
    try {
      // --json: a failure is {"error": ...} on stdout.
      const cold = await cli(['--json', 'build', '--name', 'd13-a', ...chain], 600_000);
      expect(cold.code, cold.stdout + cold.stderr).toBe(0);
      const first = JSON.parse(cold.stdout) as BuildResult;
      expect(first).toMatchObject({ machine: 'd13-a', hits: 0, ran: 2 });
      expect(await api.machines.exec('d13-a', ['hello'])).toMatchObject({ code: 0, stdout: 'Hello, world!\n' });
      expect((await api.machines.exec('d13-a', ['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME'])).stdout).toBe('trixie\n');
      expect(await api.machines.get('d13-a')).toMatchObject({ image: 'debian-13', driver: 'nspawn' });
      // The base's node is debian-13's: its key comes from that image's build.
      const base = (await api.steps.nodes()).items.find((n) => n.key === first.keys[0])!;
      expect(base).toMatchObject({ step: 'os.debian', image: 'debian-13', args: { image: 'debian-13' } });
      const warm = await cli(['--json', 'build', '--name', 'd13-b', ...chain], 300_000);
      expect(warm.code, warm.stdout + warm.stderr).toBe(0);
      expect(JSON.parse(warm.stdout)).toMatchObject({ machine: 'd13-b', hits: 2, ran: 0, keys: first.keys });
      expect(await api.machines.exec('d13-b', ['hello'])).toMatchObject({ code: 0, stdout: 'Hello, world!\n' });
    } finally {
      // Whatever happened: no container of this chain is left running for the tear-down.
      for (const m of (await api.machines.list()).items.filter((x) => x.name.startsWith('d13-'))) await finished(await api.machines.destroy(m.id));
    }
  }, 900_000);

  it('its tree as a .tar.zst is a root filesystem image (setuid files only when allowed) that boots as an OS container', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-deb13-'));
    try {
      const file = path.join(tmp, 'trixie.tar.zst');
      const tar = await run(['tar', '--zstd', '--numeric-owner', '--xattrs', '-C', path.join(srv.dataDir, 'images/debian-13/rootfs'), '-cf', file, '.'], {
        timeoutMs: 300_000,
      });
      expect(tar.code, tar.stderr).toBe(0);
      const refused = await cli(['images', 'import', file, '--name', 'trixie-tar']);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/is setuid\/setgid .*refused unless setuid files are allowed/)]);
      const r = await cli(['images', 'import', file, '--name', 'trixie-tar', '--allow-setuid']);
      expect(r.code, r.stderr).toBe(0);
      const made = await api.machines.create({ name: 'it-trixie-tar', image: 'trixie-tar', driver: 'nspawn', memoryMib: 512 });
      expect((await finished(made, 180_000)).error).toBeNull();
      const con = await serialConsole(srv.url, token, made.machineId!, 'it-trixie-tar-console', sockets);
      await until(() => /login: |root@it-trixie-tar:~# /.test(con.text()), 'a console login', 30_000);
      const os13 = await api.machines.exec(made.machineId!, ['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME']);
      expect(os13.stdout).toBe('trixie\n');
      expect((await finished(await api.machines.destroy(made.machineId!))).error).toBeNull();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 600_000);
});
