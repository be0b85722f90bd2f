import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { AttachReply } from '@/lib/contracts/console';
import type { Job } from '@/lib/contracts/jobs';
import { isQemuPid } from '@/server/drivers/qemu/runtime';
import { run } from '@/server/drivers/exec';
import {
  client,
  connected,
  execThenLeave,
  jobDone,
  serialConsole,
  socket,
  startServer,
  until,
  type RunningServer,
  tearDown,
  serverWithBusybox,
} from './harness';
import { testTempDir } from './temp-dir';

let srv: RunningServer;
let token: string;
let api: ApiClient;
const sockets: Socket[] = [];

const finished = (job: Job, ms?: number) => jobDone(api, job, ms);

const serial = (machineId: string, sessionId: string) => serialConsole(srv.url, token, machineId, sessionId, sockets);

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
}, 300_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

describe('QEMU machines (busybox, TCG)', () => {
  let id: string;

  it('refuses bad input with clear errors', async () => {
    await expect(api.machines.create({ name: 'Bad Name', image: 'busybox' })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    await expect(api.machines.create({ name: 'x', image: 'nope' })).rejects.toMatchObject({ status: 404 });
    await expect(api.machines.create({ name: 'x', image: 'busybox', cpus: 99 })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.create({ name: 'x', image: 'busybox', memoryMib: 1 })).rejects.toMatchObject({ status: 400 });
    await api.settings.update({ memoryLimit: 0.1 });
    await expect(api.machines.create({ name: 'huge', image: 'busybox', memoryMib: 60000 })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/Not enough host memory/),
    });
    await api.settings.update({ memoryLimit: 0.9 });
    expect((await api.machines.list()).items).toEqual([]);
  });

  it('creates and boots a machine on a qcow2 overlay with file-backed RAM, boot log on the console from the first line', async () => {
    const job = await api.machines.create({ name: 'it-bb', image: 'busybox', memoryMib: 256 });
    id = job.machineId!;
    const done = await finished(job);
    expect(done.error).toBeNull();
    const m = await api.machines.get('it-bb');
    expect(m).toMatchObject({ id, state: 'running', driver: 'qemu' });
    const dir = path.join(srv.dataDir, 'machines', id);
    // Its writable layer lives with the other disk layers (snapshots keep frozen ones there).
    const layers = fs.readdirSync(path.join(srv.dataDir, 'layers')).filter((f) => f.startsWith(id));
    expect(layers).toHaveLength(1);
    expect(fs.statSync(path.join(srv.dataDir, 'layers', layers[0])).size).toBeLessThan(1024 * 1024);
    expect(fs.statSync(path.join(dir, 'ram')).size).toBe(256 * 1024 * 1024);
    await expect(api.machines.create({ name: 'it-bb', image: 'busybox' })).rejects.toMatchObject({ status: 409 });
    await expect(api.machines.act(id, 'start')).rejects.toMatchObject({ status: 409 });

    const con = await serial(id, 'it-serial-1');
    expect(con.reply).toMatchObject({ ok: true });
    expect(con.text()).toMatch(/Linux version|hangar-ready it-bb/);
    await con.waitFor('hangar-ready it-bb');
    con.type('echo answer-$((6*7))\n');
    await con.waitFor('answer-42');
    // virtio disk and network work (Debian builds the virtio core as modules: they must load).
    con.type('ls /dev/vda && ip -4 addr show eth0 | grep -o "inet [0-9.]*"\n');
    await con.waitFor('inet 10.0.2.15');
    expect(con.text()).toContain('/dev/vda');
    // No sshd in busybox: the SSH channel says so instead of hanging.
    const s = socket(srv.url, '/console', { token });
    sockets.push(s);
    await connected(s);
    const ssh = await new Promise<AttachReply>((resolve) =>
      s.emit('attach', { sessionId: 'it-ssh-none', target: { kind: 'machine', machineId: id, channel: 'ssh' } }, resolve),
    );
    expect(ssh).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/no SSH server/) } });
    expect((await api.machines.get(id)).ssh).toBeNull();
  });

  it('runs commands through the guest agent: stdout, stderr and exit code apart, arguments verbatim', async () => {
    const r = await api.machines.exec(id, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const hostile = 'it\'s $(reboot) `id` ; rm -rf / \\ "q"';
    expect((await api.machines.exec(id, ['printf', '%s', hostile])).stdout).toBe(hostile);
    expect((await api.machines.exec(id, ['cat', '/proc/sys/kernel/hostname'])).stdout).toBe('it-bb\n');
    expect((await api.machines.exec(id, ['no-such-command'])).code).toBe(127);
    await expect(api.machines.exec(id, [])).rejects.toMatchObject({ status: 400 });

    // The CLI passes the guest's exit code through and keeps --json after `--` for the command.
    const home = testTempDir('hangar-cli-exec-');
    const env = { XDG_CONFIG_HOME: home, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const cli = await run([process.execPath, 'dist/cli.js', 'exec', 'it-bb', '--', 'sh', '-c', 'echo "$1"; exit 7', 'x', '--json'], { env });
    expect(cli.code).toBe(7);
    expect(cli.stdout).toBe('--json\n');
    // hangar run of a VM image: its driver runs no application containers (the server's 400 on `command`), so the
    // CLI takes the whole path: a machine of its own, the command through exec, removed with --rm.
    const ran = await run([process.execPath, 'dist/cli.js', 'run', '--rm', '--memory', '128', 'busybox', '--', 'sh', '-c', 'uname -s; exit 4'], { env });
    expect([ran.stdout, ran.code], ran.stderr).toEqual(['Linux\n', 4]);
    expect((await api.machines.list()).items.map((m) => m.name)).toEqual(['it-bb']);

    // A command stopped before its end is killed in the guest (the agent's kill request), and the machine's next exec is
    // answered at once instead of after it. Its caller leaving: through the agent the output comes only at the end, so the
    // caller leaves a moment after the start. An agent that ran it on would answer the check only after it, file written.
    // (busybox's `timeout` watches from a session of its own: it ends itself within a second of the command.)
    const leftover = () => api.machines.exec(id, ['sh', '-c', 'ps | grep "[s]leep 9$"; ls /root/late-* 2>/dev/null; echo end']);
    await execThenLeave(srv.url, token, 'it-bb', ['sh', '-c', 'sleep 9; touch /root/late-a'], '"t":"start"', 1500);
    expect((await leftover()).stdout).toBe('end\n');
    // Its time limit (the CLI's --timeout): 124, and nothing of it left running.
    const limited = await run([process.execPath, 'dist/cli.js', 'exec', 'it-bb', '--timeout', '2', '--', 'sh', '-c', 'sleep 9; touch /root/late-b'], { env });
    expect(limited).toMatchObject({ code: 124, stderr: 'hangar: The command did not end within 2 s (its time limit).\n' });
    expect((await leftover()).stdout).toBe('end\n');
  });

  it('pauses and resumes', async () => {
    expect((await finished(await api.machines.act(id, 'pause'))).state).toBe('succeeded');
    expect((await api.machines.get(id)).state).toBe('paused');
    expect((await finished(await api.machines.act(id, 'resume'))).state).toBe('succeeded');
    expect((await api.machines.get(id)).state).toBe('running');
  });

  it('survives a restart of the Hangar server and re-attaches', async () => {
    await srv.stop('SIGTERM');
    srv = await startServer({ dataDir: srv.dataDir, ownDataDir: srv.owned });
    api = client(srv.url, token);
    expect((await api.machines.get(id)).state).toBe('running');
    const con = await serial(id, 'it-serial-2');
    expect(con.text()).toContain('answer-42');
    con.type('echo still-$((1+1))\n');
    await con.waitFor('still-2');
  }, 60_000);

  it('stops with an ACPI shutdown, and destroy leaves no process and no files', async () => {
    const { items } = await api.jobs.list();
    expect(items.length).toBeGreaterThan(0);
    // QEMU removes its pid file when it exits: read it first.
    const pid = Number(fs.readFileSync(path.join(srv.dataDir, 'machines', id, 'qemu.pid'), 'utf8'));
    expect(isQemuPid(pid)).toBe(true);
    const stop = await finished(await api.machines.act(id, 'stop', { timeoutS: 20 }));
    expect(stop.state).toBe('succeeded');
    const logs = (await api.jobs.logs(stop.id)).items.map((l) => l.line);
    expect(logs).toContain('guest powered off cleanly');
    expect((await api.machines.get(id)).state).toBe('stopped');
    expect(isQemuPid(pid)).toBe(false);

    expect((await finished(await api.machines.destroy(id))).state).toBe('succeeded');
    await expect(api.machines.get(id)).rejects.toMatchObject({ status: 404 });
    expect(fs.existsSync(path.join(srv.dataDir, 'machines', id))).toBe(false);
  });

  it('handles two starts at once and a destroy while starting, leaving no process behind', async () => {
    const created = await finished(await api.machines.create({ name: 'it-faults', image: 'busybox', memoryMib: 128, start: false }));
    expect(created.state).toBe('succeeded');
    const results = await Promise.allSettled([api.machines.act('it-faults', 'start'), api.machines.act('it-faults', 'start')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { status: 409 } });
    // Destroy right away, while it boots.
    const destroy = await finished(await api.machines.destroy('it-faults'));
    expect(destroy.state).toBe('succeeded');
    await expect(api.machines.get('it-faults')).rejects.toMatchObject({ status: 404 });
    await until(async () => !(await run(['pgrep', '-f', 'hangar-it-faults'])).stdout.trim(), 'no qemu left for it-faults', 10_000);
  });
});
