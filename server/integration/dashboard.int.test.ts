import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import type { MachineStatsTick } from '@/lib/contracts/stats';
import { run } from '@/server/drivers/exec';
import { importBusyboxRootfs } from './busybox-tree';
import { client, connected, execThenLeave, jobDone, socket, statsWhere, type RunningServer, tearDown, serverWithBusybox } from './harness';

/**
 * What the dashboard stands on, against real QEMU guests: tags, bulk actions (each machine
 * authorized and audited), live figures over /events (CPU, memory and drive traffic from the
 * host; network and guest memory from the guest agent while a page watches), their history,
 * the host overview, and who receives which machine's figures.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const sockets: Socket[] = [];
const finished = (job: Job, ms?: number) => jobDone(api, job, ms);

async function eventsAs(tok: string): Promise<Socket> {
  const s = socket(srv.url, '/events', { token: tok });
  sockets.push(s);
  await connected(s);
  return s;
}

const cli = (args: string[]) =>
  run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 120_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token, XDG_CONFIG_HOME: os.tmpdir() } });

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
}, 300_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

describe('dashboard: tags, bulk actions, live figures', () => {
  let id1: string;
  let id2: string;

  it('keeps tags given at creation and replaced later; refuses bad ones with the field named', async () => {
    await expect(api.machines.create({ name: 'bad-tags', image: 'busybox', tags: ['Web'] })).rejects.toMatchObject({
      status: 400,
      issues: [expect.objectContaining({ path: 'tags.0' })],
    });
    await expect(api.machines.create({ name: 'bad-tags', image: 'busybox', tags: ['a', 'a'] })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.create({ name: 'bad-tags', image: 'busybox', tags: Array.from({ length: 17 }, (_, i) => `t${i}`) })).rejects.toMatchObject({
      status: 400,
    });
    const [j1, j2] = await Promise.all([
      api.machines.create({ name: 'dash-1', image: 'busybox', memoryMib: 128, tags: ['web', 'blue'] }),
      api.machines.create({ name: 'dash-2', image: 'busybox', memoryMib: 128, tags: ['web'] }),
    ]);
    id1 = j1.machineId!;
    id2 = j2.machineId!;
    for (const j of [j1, j2]) expect((await finished(j)).error).toBeNull();
    expect((await api.machines.get('dash-1')).tags).toEqual(['web', 'blue']);
    expect((await api.machines.update('dash-2', { tags: ['web', 'green'] })).tags).toEqual(['web', 'green']);
    await expect(api.machines.update('dash-2', { tags: ['no spaces'] })).rejects.toMatchObject({ status: 400 });
    expect((await api.machines.list()).items.map((m) => [m.name, m.tags])).toEqual([
      ['dash-1', ['web', 'blue']],
      ['dash-2', ['web', 'green']],
    ]);
    const audit = await api.audit.list({ action: 'machine.settings' });
    expect(audit.items.some((e) => e.targetId === id2)).toBe(true);
  }, 120_000);

  it('samples running machines every 2 s while someone is connected: CPU, memory, drive traffic, disk layer', async () => {
    const s = await eventsAs(token);
    const first = await statsWhere(s, id1, (x) => x.cpuPct !== null && x.diskReadBps !== null, 'a sample with rates');
    expect(first.memBytes).toBeGreaterThan(32 * 2 ** 20);
    expect(first.memLimitBytes).toBe(128 * 2 ** 20);
    expect(first.diskUsedBytes).toBeGreaterThan(0);
    // Nobody watches dash-1's page: its guest is not asked.
    expect(first.netRxBps).toBeNull();
    expect(first.guestMemBytes).toBeNull();

    // Reading the disk shows up as drive traffic, a busy loop as CPU.
    const read = statsWhere(s, id1, (x) => (x.diskReadBps ?? 0) > 1_000_000, 'disk reads');
    await api.machines.exec('dash-1', ['dd', 'if=/dev/vda', 'of=/dev/null', 'bs=1M', 'count=64']);
    expect((await read).diskReadBps).toBeGreaterThan(1_000_000);
    const busy = statsWhere(s, id2, (x) => (x.cpuPct ?? 0) > 40, 'a busy vCPU', 40_000);
    const loop = api.machines.exec('dash-2', ['sh', '-c', 'end=$(($(date +%s) + 6)); while [ $(date +%s) -lt $end ]; do :; done'], 30);
    expect((await busy).cpuPct).toBeGreaterThan(40);
    await loop;
  }, 120_000);

  it('asks the guest agent for network and memory in use while a page watches the machine, and keeps six minutes of history', async () => {
    const s = await eventsAs(token);
    s.emit('stats:watch', { machineId: id1 });
    const g = await statsWhere(s, id1, (x) => x.netRxBps !== null && x.guestMemBytes !== null, 'guest figures');
    expect(g.guestMemBytes).toBeGreaterThan(0);
    expect(g.guestMemBytes).toBeLessThan(128 * 2 ** 20);
    // Traffic to the host (slirp's 10.0.2.2 is the host's loopback): the guest fetches the API description.
    const port = new URL(srv.url).port;
    const net = statsWhere(s, id1, (x) => (x.netRxBps ?? 0) > 5_000, 'network traffic', 40_000);
    expect((await api.machines.exec('dash-1', ['wget', '-q', '-O', '/dev/null', `http://10.0.2.2:${port}/api/openapi.json`])).code).toBe(0);
    expect((await net).netRxBps).toBeGreaterThan(5_000);
    s.emit('stats:watch', { machineId: null });

    const h = await api.machines.stats('dash-1');
    expect(h).toMatchObject({ id: id1, intervalS: 2 });
    expect(h.samples.length).toBeGreaterThanOrEqual(3);
    expect(h.samples.every((x, i) => i === 0 || x.t > h.samples[i - 1].t)).toBe(true);
    const spark = await api.stats.machines();
    expect(spark.items.map((x) => x.id).sort()).toEqual([id1, id2].sort());
    expect(spark.items.every((x) => x.samples.length <= 30)).toBe(true);

    const host = await api.stats.host();
    expect(host.cpus).toBe(os.cpus().length);
    expect(host.memTotalBytes).toBeGreaterThan(host.memAvailableBytes);
    expect(host.disk.totalBytes).toBeGreaterThan(host.disk.freeBytes);
    expect(host.machines).toMatchObject({ running: 2, stopped: 0 });
    expect(host.allocated).toMatchObject({ cpus: 2, memoryMib: 256 });
    expect(host.data.imageBytes).toBeGreaterThan(0);
    expect(host.data.machineBytes).toBeGreaterThan(0);
    expect(host.history.length).toBeGreaterThan(0);
    expect(host.cpuPct).not.toBeNull();
  }, 120_000);

  it('runs one action on several machines, each as its own job; refusals are reported per machine and the rest go on', async () => {
    await expect(api.machines.bulk({ action: 'pause', machines: ['dash-1', 'dash-1'] })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.bulk({ action: 'pause', machines: [] })).rejects.toMatchObject({ status: 400 });
    const r = await api.machines.bulk({ action: 'pause', machines: ['dash-1', 'no-such', 'dash-2'] });
    expect(r.results.map((x) => [x.machine, x.error?.code ?? 'ok'])).toEqual([
      ['dash-1', 'ok'],
      ['no-such', 'not_found'],
      ['dash-2', 'ok'],
    ]);
    for (const x of r.results) if (x.job) expect((await finished(x.job)).error).toBeNull();
    expect((await api.machines.list()).items.map((m) => m.state)).toEqual(['paused', 'paused']);
    const again = await api.machines.bulk({ action: 'pause', machines: ['dash-1'] });
    expect(again.results[0]).toMatchObject({ job: null, error: { code: 'conflict', message: expect.stringMatching(/it is paused/) } });
    const audit = await api.audit.list({ action: 'machine.pause' });
    expect(audit.items.filter((e) => (e.detail as { bulk?: boolean } | null)?.bulk)).toHaveLength(2);

    // The CLI: every machine with a tag, one job each, exit 0 when all went.
    const resume = await cli(['resume', '--tag', 'web']);
    expect(resume.stderr).toBe('');
    expect(resume.code).toBe(0);
    expect(resume.stdout).toMatch(/dash-1: resume done\.\ndash-2: resume done\./);
    expect((await api.machines.list()).items.map((m) => m.state)).toEqual(['running', 'running']);
    const refused = await cli(['pause', 'dash-1', 'no-such']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no-such: .*not found/i);
    expect(refused.stderr).toMatch(/1 of 2 machines: not done/);
    await finished(await api.machines.act('dash-1', 'resume'));
  }, 120_000);

  it("lets a teammate act only on the machines given to them, and sends them only those machines' figures", async () => {
    await api.users.create({ username: 'dash-member', role: 'member', password: 'member-password-1' });
    await api.users.create({ username: 'dash-viewer', role: 'viewer', password: 'viewer-password-1' });
    const member = (await api.users.list()).items.find((u) => u.username === 'dash-member')!;
    await api.grants.put('dash-2', { username: member.username, role: 'operator' });
    const tokenOf = async (username: string, password: string) => {
      const login = await fetch(`${srv.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url },
        body: JSON.stringify({ username, password }),
      });
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      const t = await fetch(`${srv.url}/api/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url, cookie },
        body: JSON.stringify({ name: 'dash' }),
      });
      return ((await t.json()) as { secret: string }).secret;
    };
    const memberTok = await tokenOf('dash-member', 'member-password-1');
    const viewerApi = client(srv.url, await tokenOf('dash-viewer', 'viewer-password-1'));
    const memberApi = client(srv.url, memberTok);

    const v = await viewerApi.machines.bulk({ action: 'pause', machines: ['dash-1'] });
    expect(v.results[0].error?.code).toBe('forbidden');
    const m = await memberApi.machines.bulk({ action: 'pause', machines: ['dash-1', 'dash-2'] });
    // dash-1 was not given to them: it does not exist, as far as they can tell.
    expect(m.results.map((x) => x.error?.code ?? 'ok')).toEqual(['not_found', 'ok']);
    await finished(m.results[1].job!);
    expect((await memberApi.machines.bulk({ action: 'destroy', machines: ['dash-2'] })).results[0].error?.code).toBe('forbidden');
    await finished(await api.machines.act('dash-2', 'resume'));

    await expect(memberApi.stats.host()).rejects.toMatchObject({ status: 403 });
    expect((await memberApi.stats.machines()).items.map((x) => x.id)).toEqual([id2]);
    await expect(memberApi.machines.stats('dash-1')).rejects.toMatchObject({ status: 404 });
    const s = await eventsAs(memberTok);
    const seen = new Set<string>();
    s.on('stats:machines', (t: MachineStatsTick) => t.items.forEach((x) => seen.add(x.id)));
    // Watching a machine not given to them asks nothing of its guest.
    s.emit('stats:watch', { machineId: id1 });
    await statsWhere(s, id2, () => true, 'a tick of the granted machine');
    await new Promise((r) => setTimeout(r, 4500));
    expect([...seen]).toEqual([id2]);
  }, 120_000);

  it('hangar ps filters by state, driver and tag (a page of matches, its next page filtered alike), and hangar tag adds and removes tags', async () => {
    const ps = await cli(['ps', '--tag', 'blue', '--json']);
    expect(ps.code).toBe(0);
    expect(JSON.parse(ps.stdout).map((m: { name: string }) => m.name)).toEqual(['dash-1']);
    expect((await cli(['ps', '--state', 'stopped'])).stdout).toContain('No machines match.');
    expect((await cli(['ps', '--state', 'sleeping'])).code).toBe(2);
    const table = await cli(['ps', 'dash', '--driver', 'qemu']);
    expect(table.stdout).toMatch(/TAGS\n.*dash-1 .*web,blue\n.*dash-2 .*web,green/);
    // A page is of machines that match: dash-1 comes first by name but is not green.
    const names = (r: { stdout: string }) => JSON.parse(r.stdout).map((m: { name: string }) => m.name);
    expect(names(await cli(['ps', '--tag', 'green', '--limit', '1', '--json']))).toEqual(['dash-2']);
    // The next page's command keeps the filter, and gives the next match.
    const first = await cli(['ps', '--tag', 'web', '--limit', '1', '--json']);
    expect(names(first)).toEqual(['dash-1']);
    const more = /More: (hangar ps --tag web --limit 1 --cursor (\S+))/.exec(first.stderr);
    expect(more, first.stderr).not.toBeNull();
    expect(names(await cli(['ps', '--tag', 'web', '--limit', '1', '--cursor', more![2], '--json']))).toEqual(['dash-2']);
    const tag = await cli(['tag', 'dash-1', '+red', '-blue']);
    expect(tag.code).toBe(0);
    expect(tag.stdout.trim()).toBe('web red');
    const bad = await cli(['tag', 'dash-1', 'Not-OK']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/a tag/);
  }, 60_000);

  it("hangar ps fills a page in the middle of the server's page, and its next page starts right after it", async () => {
    for (const name of ['dash-x', 'dash-y', 'dash-z']) await finished(await api.machines.create({ name, image: 'busybox', start: false, tags: ['green'] }));
    const names = (r: { stdout: string }) => JSON.parse(r.stdout).map((m: { name: string }) => m.name);
    // By name: dash-1 (not green), dash-2 | dash-x, dash-y | dash-z: the page is full at dash-x, the first of the server's second.
    const first = await cli(['ps', '--tag', 'green', '--limit', '2', '--json']);
    expect(names(first)).toEqual(['dash-2', 'dash-x']);
    const cursor = /--cursor (\S+)/.exec(first.stderr)![1];
    expect(names(await cli(['ps', '--tag', 'green', '--limit', '2', '--cursor', cursor, '--json']))).toEqual(['dash-y', 'dash-z']);
    for (const name of ['dash-x', 'dash-y', 'dash-z']) await finished(await api.machines.destroy(name));
  }, 60_000);

  it('hangar exec takes --timeout between the name and --; a bad one is refused, not dropped', async () => {
    if ((await api.machines.get('dash-1')).state !== 'running') await finished(await api.machines.act('dash-1', 'start'));
    expect(await cli(['exec', 'dash-1', '--timeout', '30', '--', 'echo', 'hi'])).toMatchObject({ code: 0, stdout: 'hi\n' });
    const late = await cli(['exec', 'dash-1', '--timeout', '2', '--', 'sleep', '6']);
    expect(late).toMatchObject({ code: 124, stderr: 'hangar: The command did not end within 2 s (its time limit).\n' });
    expect((await cli(['exec', 'dash-1', '--timeout', 'soon', '--', 'true'])).code).toBe(2);
  }, 60_000);

  it('hangar exec streams: output as it comes, stderr and the exit code at the end, -i gives it our stdin, --json one document', async () => {
    if ((await api.machines.get('dash-1')).state !== 'running') await finished(await api.machines.act('dash-1', 'start'));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-dash-exec-'));
    try {
      await importBusyboxRootfs(api, tmp, 'bb-exec', ['sh', 'cat', 'echo', 'sleep', 'tr', 'wc']);
      await finished(await api.machines.create({ name: 'dash-ct', image: 'bb-exec', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] }));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const env = { HANGAR_URL: srv.url, HANGAR_TOKEN: token, XDG_CONFIG_HOME: os.tmpdir() };
    const script = 'echo first; sleep 3; echo second; echo oops >&2; exit 3';
    for (const name of ['dash-ct', 'dash-1']) {
      const events: { t: string; d: string; at: number }[] = [];
      const t0 = Date.now();
      const last = await api.machines.execStream(name, { argv: ['sh', '-c', script] }, (e) =>
        events.push({ t: e.t, d: e.t === 'stdout' || e.t === 'stderr' ? e.d : '', at: Date.now() - t0 }),
      );
      expect(last).toMatchObject({ t: 'exit', code: 3, removed: false });
      expect(events.map((e) => e.t).filter((t, i, all) => t !== all[i - 1])).toEqual(['start', 'stdout', 'stderr', 'exit']);
      const stdout = events.filter((e) => e.t === 'stdout');
      expect(stdout.map((e) => e.d).join('')).toBe('first\nsecond\n');
      expect(events.find((e) => e.t === 'stderr')!.d).toBe('oops\n');
      // A container's exec streams: its first line is here seconds before the second. (A VM without sshd runs it through
      // the serial agent, which hands the output over when the command ends.)
      if (name === 'dash-ct') expect(stdout.find((e) => e.d.includes('second'))!.at - stdout.find((e) => e.d.includes('first'))!.at).toBeGreaterThan(2000);
      // The CLI: the same, its exit code passed through; without -i the command reads nothing of ours (cat ends at once).
      const out = await run([process.execPath, 'dist/cli.js', 'exec', name, '--', 'sh', '-c', 'echo out; echo err >&2; cat; exit 4'], {
        input: 'not read\n',
        timeoutMs: 120_000,
        env,
      });
      expect(out).toMatchObject({ code: 4, stdout: 'out\n', stderr: 'err\n' });
      // -i: our stdin to the command, its end the command's EOF.
      const piped = await run([process.execPath, 'dist/cli.js', 'exec', name, '-i', '--', 'sh', '-c', 'tr a-z A-Z | wc -l'], {
        input: 'one\ntwo\nthree\n',
        timeoutMs: 120_000,
        env,
      });
      expect(piped.stdout.trim(), piped.stderr).toBe('3');
      const upper = await run([process.execPath, 'dist/cli.js', 'exec', name, '-i', '--', 'tr', 'a-z', 'A-Z'], {
        input: 'streamed in\n',
        timeoutMs: 120_000,
        env,
      });
      expect(upper).toMatchObject({ code: 0, stdout: 'STREAMED IN\n' });
    }
    // The caller going away stops the command: it never writes its file.
    await execThenLeave(srv.url, token, 'dash-ct', ['sh', '-c', 'echo started; sleep 4; echo late > /root/late']);
    await new Promise((r) => setTimeout(r, 6000));
    expect((await api.machines.exec('dash-ct', ['sh', '-c', 'cat /root/late 2>/dev/null || echo none'])).stdout).toBe('none\n');
    // A container's command past its time limit: 124, said on stderr, and stopped (the file after the sleep never comes).
    const slow = await cli(['exec', 'dash-ct', '--timeout', '2', '--', 'sh', '-c', 'sleep 4; echo late > /root/late2']);
    expect(slow).toMatchObject({ code: 124, stderr: 'hangar: The command did not end within 2 s (its time limit).\n' });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await api.machines.exec('dash-ct', ['sh', '-c', 'cat /root/late2 2>/dev/null || echo none'])).stdout).toBe('none\n');
    // --json: one document when it ends (and -i, which streams, is refused with it).
    expect(JSON.parse((await cli(['--json', 'exec', 'dash-1', '--', 'echo', 'hi'])).stdout)).toMatchObject({ code: 0, stdout: 'hi\n', stderr: '' });
    expect((await cli(['--json', 'exec', 'dash-1', '-i', '--', 'true'])).code).toBe(2);
    // Refused before any output: a missing machine (404) and a stopped one (409), as the buffered exec.
    await expect(api.machines.execStream('no-such', { argv: ['true'] }, () => undefined)).rejects.toMatchObject({ status: 404 });
    await finished(await api.machines.act('dash-ct', 'stop', { force: true }));
    await expect(api.machines.execStream('dash-ct', { argv: ['true'] }, () => undefined)).rejects.toMatchObject({ status: 409 });
    await finished(await api.machines.destroy('dash-ct'));
  }, 180_000);

  it('hangar create --image WORD: a name that is no image here says so beside what the registry pull said, and makes nothing', async () => {
    const r = await cli(['create', 'dash-typo', '--image', 'busybx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hangar: No image "busybx" here \(hangar images lists them\), and pulling it as a registry image failed: \S/);
    await expect(api.machines.get('dash-typo')).rejects.toMatchObject({ status: 404 });
  }, 120_000);

  it('hangar rm goes on past a name it cannot remove, naming it, and fails at the end', async () => {
    await finished(await api.machines.create({ name: 'dash-rm', image: 'busybox', start: false }));
    const rm = await cli(['rm', 'nosuch', 'dash-rm']);
    expect(rm).toMatchObject({ code: 1, stdout: 'Destroyed dash-rm.\n' });
    // (Between them, the destroy job's progress.)
    expect(rm.stderr).toMatch(/^nosuch: Machine "nosuch" not found\.\n[^]*hangar: 1 of 2 machines: not removed\.\n$/);
    await expect(api.machines.get('dash-rm')).rejects.toMatchObject({ status: 404 });
    // One name: its own error, once.
    expect(await cli(['rm', 'nosuch'])).toMatchObject({ code: 1, stderr: 'hangar: Machine "nosuch" not found.\n' });
    // --json: one document saying what failed, and exit 1.
    const json = await cli(['rm', '--json', 'nosuch']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ destroyed: [], failed: [{ machine: 'nosuch', error: 'Machine "nosuch" not found.' }] });
  }, 60_000);
});
