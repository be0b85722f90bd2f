import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import { ApiError } from '@/lib/client/transport';
import type { BuildResult } from '@/lib/contracts/steps';
import { run } from '@/server/drivers/exec';
import {
  adminToken,
  client,
  connected,
  execThenLeave,
  jobDone,
  serialConsole,
  socket,
  startServer,
  tearDown,
  TEST_CACHE,
  until,
  type RunningServer,
} from './harness';

/**
 * `hangar adopt`: a machine Hangar does not run, reached over SSH. The remote machine is an nspawn
 * container Hangar makes from the debian-12 image the test tier keeps built (HANGAR_TEST_IMAGE_CACHE),
 * on the NAT network with its sshd, a key authorized in it. Adopted as driver `ssh`: exec, the SSH
 * console, its journal as logs, steps applied (never cached), checkpoint and stop refused with the
 * reason, a wrong key or a dead address refused leaving nothing, a changed host key refused, and
 * destroy forgetting it while the container runs on. Skipped when no debian-12 is built in the cache.
 */
const built = (() => {
  const dir = path.join(TEST_CACHE, 'built-images');
  const dirs = fs.existsSync(dir) ? fs.readdirSync(dir).map((d) => path.join(dir, d)) : [];
  return dirs.some((d) => {
    const facts = fs.existsSync(path.join(d, 'built.json')) ? fs.readFileSync(path.join(d, 'built.json'), 'utf8') : '';
    return facts.includes('"bookworm"') && fs.existsSync(path.join(d, 'files/rootfs/usr/sbin/sshd'));
  });
})();

let srv: RunningServer;
let api: ApiClient;
let token: string;
let dir: string;
let address: string;
const sockets: Socket[] = [];

const cli = (args: string[]) =>
  run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 300_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token, HOME: dir } });
/** A command in the remote container through its own driver (nsenter), not through the adopted machine. */
const inRemote = async (script: string) => {
  const r = await api.machines.exec('remote', ['sh', '-c', script]);
  expect(r.code, `${script}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
};
const machineDirs = () => fs.readdirSync(path.join(srv.dataDir, 'machines')).sort();

beforeAll(async () => {
  if (!built) return;
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-adopt-'));
  const img = await jobDone(api, await api.images.build({ kind: 'debian-12' }), 10 * 60_000);
  expect(img.error).toBeNull();
  const made = await jobDone(api, await api.machines.create({ name: 'remote', image: 'debian-12', driver: 'nspawn', network: 'nat', memoryMib: 512 }), 300_000);
  expect(made.error).toBeNull();
  await until(
    () =>
      api.machines.exec('remote', ['true']).then(
        (r) => r.code === 0,
        () => false,
      ),
    'the container answers exec',
    120_000,
    500,
  );
  address = (await api.machines.get('remote')).address!;
  expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  for (const k of ['id', 'wrong']) expect((await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)])).code).toBe(0);
  expect((await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', 'open sesame', '-f', path.join(dir, 'locked')])).code).toBe(0);
  fs.writeFileSync(path.join(dir, 'locked.pass'), 'open sesame\n');
  fs.writeFileSync(path.join(dir, 'bad.pass'), 'open barley\n');
  // The keys Hangar will log in with (one with a passphrase), and sshd listening on port 22 of its NAT address.
  const pubs = ['id', 'locked'].map((k) => `'${fs.readFileSync(path.join(dir, `${k}.pub`), 'utf8').trim()}'`).join(' ');
  await inRemote(
    `install -d -m 700 /root/.ssh && printf '%s\\n' ${pubs} >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && ` +
      'ssh-keygen -A >/dev/null && install -d -m 755 /run/sshd && (systemctl restart ssh || /usr/sbin/sshd)',
  );
  await until(
    async () => (await run(['ssh-keyscan', '-T', '3', '-t', 'ed25519', address], { timeoutMs: 10_000 })).stdout.includes('ssh-ed25519'),
    'sshd answers on the container address',
    60_000,
    500,
  );
}, 15 * 60_000);

afterAll(async () => {
  if (built) await tearDown(srv, api, sockets);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!built)('hangar adopt: a machine reached over SSH', () => {
  it('refuses a wrong key, a dead address and a taken name, leaving nothing', async () => {
    const before = machineDirs();
    const wrong = await cli(['adopt', 'box', '--ssh', `root@${address}`, '--key', path.join(dir, 'wrong')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Cannot adopt box .*login .*was refused: the key is not authorized there/);
    const dead = await refusal(api.machines.adopt({ name: 'box', ssh: 'root@127.0.0.1:1', privateKey: fs.readFileSync(path.join(dir, 'id'), 'utf8') }));
    expect(dead.status).toBe(400);
    expect(dead.message).toMatch(/SSH to 127\.0\.0\.1:1 failed/);
    const notKey = await refusal(api.machines.adopt({ name: 'box', ssh: `root@${address}`, privateKey: fs.readFileSync(path.join(dir, 'id.pub'), 'utf8') }));
    expect(notKey.status).toBe(400);
    const taken = await refusal(api.machines.adopt({ name: 'remote', ssh: `root@${address}`, privateKey: fs.readFileSync(path.join(dir, 'id'), 'utf8') }));
    expect(taken.status).toBe(409);
    expect((await api.machines.list()).items.map((m) => m.name)).toEqual(['remote']);
    expect(machineDirs()).toEqual(before);
  }, 120_000);

  it('a key with a passphrase: refused without it and with a wrong one; adopted with --passphrase-file, kept 0600 beside the key', async () => {
    const locked = path.join(dir, 'locked');
    const none = await cli(['adopt', 'locked-box', '--ssh', `root@${address}`, '--key', locked]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/protected by a passphrase: give it \(hangar adopt --passphrase-file FILE/);
    const bad = await cli(['adopt', 'locked-box', '--ssh', `root@${address}`, '--key', locked, '--passphrase-file', path.join(dir, 'bad.pass')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/The passphrase does not open the key/);
    expect((await api.machines.list()).items.map((m) => m.name)).toEqual(['remote']);
    const ok = await cli(['adopt', 'locked-box', '--ssh', `root@${address}`, '--key', locked, '--passphrase-file', path.join(dir, 'locked.pass')]);
    expect(ok.code, ok.stderr).toBe(0);
    const m = await api.machines.get('locked-box');
    const kept = path.join(srv.dataDir, 'machines', m.id, 'id.passphrase');
    expect(fs.readFileSync(kept, 'utf8')).toBe('open sesame');
    expect(fs.statSync(kept).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(m)).not.toContain('sesame');
    // Later logins (exec) open the key with the kept passphrase.
    expect((await api.machines.exec('locked-box', ['sh', '-c', 'echo in-$((6*7))'])).stdout.trim()).toBe('in-42');
    await api.machines.destroy('locked-box');
    await until(async () => (await api.machines.list()).items.every((x) => x.name !== 'locked-box') || null, 'locked-box forgotten', 30_000, 250);
  }, 120_000);

  it('adopts with the right key: exec, the SSH console, the journal as logs; the key stays on the server', async () => {
    const r = await cli(['adopt', 'box', '--ssh', `root@${address}:22`, '--key', path.join(dir, 'id')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/box adopted: Adopted over SSH \(root@/);
    const m = await api.machines.get('box');
    expect(m).toMatchObject({ driver: 'ssh', state: 'running', address, ssh: { user: 'root' } });
    expect(JSON.stringify(m)).not.toContain('PRIVATE KEY');
    const key = path.join(srv.dataDir, 'machines', m.id, 'id');
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    // A second adopt of that name: 409.
    const again = await refusal(api.machines.adopt({ name: 'box', ssh: `root@${address}`, privateKey: fs.readFileSync(path.join(dir, 'id'), 'utf8') }));
    expect(again.status).toBe(409);

    const hostname = (await inRemote('cat /etc/hostname')).trim();
    const ex = await cli(['exec', 'box', '--', 'cat', '/etc/hostname']);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout.trim()).toBe(hostname);
    // A command past its time limit, streamed and buffered, is killed in the machine (its process group, over a second
    // channel), not only cut off: closing the connection alone leaves a command that reads and writes nothing running, and
    // sshd refuses the signal request after a root login. Its file would come.
    const slow = await cli(['exec', 'box', '--timeout', '2', '--', 'sh', '-c', 'sleep 4; touch /root/late-s']);
    expect(slow.code, slow.stderr).toBe(124);
    await expect(api.machines.exec('box', ['sh', '-c', 'sleep 4; touch /root/late-b'], 2)).rejects.toMatchObject({ message: expect.stringContaining('2 s') });
    // And a command whose caller went away (a client killed).
    await execThenLeave(srv.url, token, 'box', ['sh', '-c', 'echo started; sleep 4; touch /root/late-c']);
    // An sshd that takes one session a connection (MaxSessions 1) refuses the kill's second channel: it goes over a
    // connection of its own.
    await inRemote('echo "MaxSessions 1" > /etc/ssh/sshd_config.d/one.conf && systemctl reload ssh');
    const one = await cli(['exec', 'box', '--timeout', '2', '--', 'sh', '-c', 'sleep 4; touch /root/late-m']);
    expect(one.code, one.stderr).toBe(124);
    await inRemote('rm /etc/ssh/sshd_config.d/one.conf && systemctl reload ssh');
    await new Promise((r) => setTimeout(r, 5000));
    expect(await inRemote('ls /root/late-s /root/late-b /root/late-c /root/late-m 2>/dev/null; echo none')).toBe('none\n');

    const con = await serialConsole(srv.url, token, m.id, 'adopt-ssh', sockets, 'ssh');
    expect(con.reply.ok, JSON.stringify(con.reply)).toBe(true);
    await con.waitFor('# ');
    con.type('echo adopted-$((6*7))\r');
    await con.waitFor('adopted-42');

    await inRemote('logger hangar-adopt-journal-mark');
    await until(async () => (await api.machines.logs('box')).text.includes('hangar-adopt-journal-mark'), 'the mark in the journal log', 60_000, 500);
    // The main console is that journal, read only.
    const journal = await serialConsole(srv.url, token, m.id, 'adopt-journal', sockets);
    expect(journal.reply.ok, JSON.stringify(journal.reply)).toBe(true);
    await journal.waitFor('hangar-adopt-journal-mark');

    // Live figures, read from its /proc over one SSH connection while someone watches (a socket on /events).
    const watcher = socket(srv.url, '/events', { token });
    sockets.push(watcher);
    await connected(watcher);
    const sample = await until(
      async () => {
        const last = (await api.stats.machines()).items.find((x) => x.id === m.id)?.samples.at(-1);
        return last && last.cpuPct !== null && (last.memBytes ?? 0) > 0 ? last : null;
      },
      'live figures of the adopted machine',
      30_000,
      500,
    );
    expect(sample.memLimitBytes).toBeGreaterThan(sample.memBytes!);
  }, 180_000);

  it('applies a chain over exec, not cached, and says why', async () => {
    const nodes = (await api.steps.nodes()).items.length;
    const r = await cli(['build', '--on', 'box', 'file', '/etc/adopt-step', 'from-a-step', '+', 'exec', '--', 'cat', '/etc/adopt-step']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /box: 2 steps run, none cached: a step's result on box cannot be snapshotted \(Checkpoint not available: an adopted machine's disk is not Hangar's\.\)/,
    );
    expect((await inRemote('cat /etc/adopt-step')).trim()).toBe('from-a-step');
    const json = await cli(['--json', 'build', '--on', 'box', 'exec', '--', 'true']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout) as BuildResult).toMatchObject({ machine: 'box', hits: 0, ran: 1, keys: [] });
    expect((await api.steps.nodes()).items.length).toBe(nodes);
  }, 180_000);

  it('refuses checkpoint, fork and power with the reason from its description', async () => {
    const m = await api.machines.get('box');
    expect(m.capabilities.checkpoint).toMatchObject({ running: 'none', reason: "Checkpoint not available: an adopted machine's disk is not Hangar's." });
    const cp = await refusal(api.snapshots.checkpoint('box'));
    expect(cp.status).toBe(409);
    expect(cp.message).toContain("not available: an adopted machine's disk is not Hangar's");
    const cli1 = await cli(['checkpoint', 'box']);
    expect(cli1.code).toBe(1);
    expect(cli1.stderr).toContain("not available: an adopted machine's disk is not Hangar's");
    const stop = await refusal(api.machines.act('box', 'stop'));
    expect(stop.status).toBe(409);
    expect(stop.message).toMatch(/Hangar does not run an adopted machine/);
    const create = await refusal(api.machines.create({ name: 'made', driver: 'ssh', image: 'debian-12' }));
    expect(create.status).toBe(400);
  }, 60_000);

  it('refuses a changed host key with a clear error', async () => {
    await inRemote(
      'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && (systemctl restart ssh || (kill "$(cat /run/sshd.pid)"; sleep 1; /usr/sbin/sshd))',
    );
    const r = await cli(['exec', 'box', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SSH host key of the machine changed .*refusing to connect/);
  }, 60_000);

  it('destroy forgets it: record and key gone, the container still running', async () => {
    const m = await api.machines.get('box');
    const done = await jobDone(api, await api.machines.destroy('box'));
    expect(done.error).toBeNull();
    expect((await api.machines.list()).items.map((x) => x.name)).toEqual(['remote']);
    expect(fs.existsSync(path.join(srv.dataDir, 'machines', m.id))).toBe(false);
    expect((await api.machines.get('remote')).state).toBe('running');
    expect((await inRemote('cat /etc/adopt-step')).trim()).toBe('from-a-step');
  }, 60_000);
});
