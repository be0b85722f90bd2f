import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { AttachReply, ConsoleExit, ConsoleOutput } from '@/lib/contracts/console';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { adminToken, client, connected, jobDone, socket, startServer, until, type RunningServer } from './harness';

/**
 * The debian-12 image end to end: debootstrap from the host's apt mirror, boot with systemd,
 * root's key injected, SSH exec, an SSH terminal over /console, `hangar ssh`, ACPI shutdown.
 * Downloaded packages are shared between runs through HANGAR_CACHE.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const sockets: Socket[] = [];
const finished = (job: Job, ms?: number) => jobDone(api, job, ms);

beforeAll(async () => {
  srv = await startServer({ env: { HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache') } });
  token = await adminToken(srv.url);
  api = client(srv.url, token);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const m of (await api.machines.list().catch(() => ({ items: [] }))).items) await finished(await api.machines.destroy(m.id)).catch(() => undefined);
  await srv?.stop();
}, 120_000);

describe('debian-12 image and SSH', () => {
  let id: string;

  it('builds the image with debootstrap from the host apt mirror, with progress and logs', async () => {
    const job = await api.images.build({ kind: 'debian-12' });
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
  }, 16 * 60_000);

  it('boots to SSH with the machine key; exec runs over SSH with exit codes and verbatim arguments', async () => {
    await expect(api.machines.create({ name: 'tiny', image: 'debian-12', diskGib: 0 })).rejects.toMatchObject({ status: 400 });
    const job = await api.machines.create({ name: 'it-deb', image: 'debian-12', cpus: 2, memoryMib: 768, diskGib: 3 });
    id = job.machineId!;
    expect((await finished(job, 180_000)).error).toBeNull();
    const m = await api.machines.get(id);
    expect(m).toMatchObject({ state: 'running', ssh: { user: 'root', port: expect.any(Number) } });
    expect(fs.readFileSync(path.join(srv.dataDir, 'machines', id, 'id_ed25519'), 'utf8')).toContain('PRIVATE KEY');

    const r = await api.machines.exec(id, ['sh', '-c', 'hostname; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'it-deb\n', stderr: 'err\n' });
    const hostile = "it's $(reboot) `id` ; rm -rf / \\ \"q\"";
    expect((await api.machines.exec(id, ['printf', '%s', hostile])).stdout).toBe(hostile);
    // Root by key only; the machine-id is this machine's own; the filesystem grew to the 3 GiB disk.
    const sshd = (await api.machines.exec(id, ['sshd', '-T'])).stdout;
    expect(sshd).toMatch(/^passwordauthentication no$/m);
    expect(sshd).toMatch(/^permitrootlogin without-password$/m);
    expect((await api.machines.exec(id, ['cat', '/etc/machine-id'])).stdout).toMatch(/^[0-9a-f]{32}\n$/);
    const blocks = Number((await api.machines.exec(id, ['sh', '-c', 'sleep 1; df --output=size -B1M / | tail -1'])).stdout.trim());
    expect(blocks).toBeGreaterThan(2500);
  }, 240_000);

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
    const reply = await new Promise<AttachReply>((resolve) => s.emit('attach', { sessionId, target: { kind: 'machine', machineId: id, channel: 'ssh' }, cols: 100, rows: 30 }, resolve));
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
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-ssh-'));
    const env = { XDG_CONFIG_HOME: home, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const shell = await run([process.execPath, 'dist/cli.js', 'ssh', 'it-deb'], { env, input: 'echo via-$((40+2))\nexit 4\n', timeoutMs: 30_000 });
    expect(shell.stdout).toContain('via-42');
    expect(shell.code).toBe(4);
    const cmd = await run([process.execPath, 'dist/cli.js', 'ssh', 'it-deb', '--', 'uname', '-s'], { env, timeoutMs: 30_000 });
    expect(cmd).toMatchObject({ code: 0, stdout: 'Linux\n' });
    fs.rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('stops cleanly with an ACPI shutdown, and starts again to SSH', async () => {
    const stop = await finished(await api.machines.act(id, 'stop', { timeoutS: 60 }));
    expect((await api.jobs.logs(stop.id)).items.map((l) => l.line)).toContain('guest powered off cleanly');
    expect((await finished(await api.machines.act(id, 'start'), 180_000)).error).toBeNull();
    // Ready means this boot's marker, not the previous boot's line in the same serial log.
    const up = await api.machines.exec(id, ['cat', '/proc/uptime']);
    expect(Number(up.stdout.split(' ')[0])).toBeLessThan(120);
    expect((await api.machines.exec(id, ['systemctl', 'is-system-running', '--wait'], 60)).stdout.trim()).toBe('running');
  }, 300_000);
});
