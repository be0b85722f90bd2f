import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { io, type Socket } from 'socket.io-client';
import {
  adminToken,
  client,
  connected,
  destroyAll,
  jobDone,
  loginCookie,
  removeDataDir,
  type RunningServer,
  serialConsole,
  socket,
  startServer,
  until,
} from './harness';
import { adminSql } from './postgres';
import { importBusyboxRootfs } from './busybox-tree';
import { makeNodeNet, type NodeNet } from './netns';

/**
 * Step 1 of the cluster plan (nodes, join tokens, heartbeat): two real servers, A and B, each
 * with its own data dir, on one database of the integration tier's PostgreSQL, B in a network
 * namespace of its own (netns.ts: A on the host's end of a veth pair, B on the other, so every
 * join, heartbeat, forward and relayed console crosses it). B joins with a token made on A; B is
 * killed and shown offline, restarted and shown online again.
 */
const DB = 'hangar_cluster_join';
let dbUrl = '';
let a: RunningServer | undefined;
let b: RunningServer | undefined;
let api: ApiClient;
let token = '';

const admin = (sql: string) => adminSql(inject('postgresUrl'), sql);

let net: NodeNet | undefined;

/** B in its network namespace, on its end of the veth pair (plain HTTP: a private link, as a cluster's internal network). */
const startB = (args: string[] = [], dataDir?: string) =>
  startServer({
    env: { DATABASE_URL: dbUrl },
    args: ['--host', net!.nodeIp, '--insecure-http', '--node-name', 'b', ...args],
    enter: net!.enter,
    dataDir,
    ownDataDir: true,
  });

async function nodeB(): Promise<ClusterNode | undefined> {
  return (await api.nodes.list()).items.find((n) => n.name === 'b');
}

function join(body: Record<string, unknown>) {
  return fetch(`${a!.url}/api/cluster/join`, { method: 'POST', headers: { 'content-type': 'application/json', origin: a!.url }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${DB}`);
  await admin(`CREATE DATABASE ${DB}`);
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${DB}`;
  dbUrl = url.toString();
  net = await makeNodeNet();
  a = await startServer({ env: { DATABASE_URL: dbUrl }, args: ['--host', net.hostIp, '--insecure-http', '--node-name', 'a'] });
  token = await adminToken(a.url);
  api = client(a.url, token);
}, 60_000);

afterAll(async () => {
  // A test that failed midway leaves no machine running past the run: containers outlive their server (a CI run's ct-b did).
  if (a) {
    const failed = await destroyAll(api).catch((err: Error) => [err.message]);
    if (failed.length) console.error(`cluster-join: destroying what is left: ${failed.join('; ')}`);
  }
  await b?.stop();
  await a?.stop();
  for (const s of [a, b]) if (s && !process.env.HANGAR_KEEP_TEST_DATA) removeDataDir(s.dataDir);
  await net?.remove();
  await admin(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
}, 300_000);

describe('cluster join (two nodes, one PostgreSQL)', () => {
  it('A founded the cluster: it is the one node, and /health says cluster', async () => {
    const { items } = await api.nodes.list();
    expect(items.map((n) => [n.name, n.self, n.online])).toEqual([['a', true, true]]);
    const health = await (await fetch(`${a!.url}/api/health`)).json();
    expect(health.cluster).toEqual({ enabled: true, node: 'a' });
  });

  it("B joins with a token; A's running job is not failed by B's start; B is listed with its capabilities", async () => {
    const job = await api.jobs.demo({ seconds: 60, steps: 60 });
    await until(async () => (await api.jobs.get(job.id)).state === 'running', 'the demo job running on A');
    const made = await api.nodes.createToken({ ttlSeconds: 600 });
    expect(made.token).toMatch(/^hgj_/);
    expect(made.command).toContain(`--cluster-join ${a!.url} --token ${made.token}`);
    b = await startB(['--cluster-join', a!.url, '--token', made.token]);
    const onB = await until(async () => ((await nodeB())?.online ? nodeB() : null), 'node b listed online on A');
    expect(onB.internalUrl).toBe(b.url);
    expect(onB.self).toBe(false);
    // B's host probe runs a few seconds after its start; its next heartbeat carries the capabilities.
    const probed = await until(async () => ((await nodeB())?.capabilities.length ? nodeB() : null), "b's capabilities", 90_000, 500);
    expect(probed.cpus).toBeGreaterThan(0);
    // Its heartbeats carry its use (the Nodes page's bars): memory and the disk of its data dir.
    const used = await until(async () => ((await nodeB())?.usage ? nodeB() : null), "b's usage", 30_000, 500);
    expect(used.usage!.memTotalBytes).toBeGreaterThan(0);
    expect(used.usage!.diskTotalBytes).toBeGreaterThan(0);
    const j = await api.jobs.get(job.id);
    expect(j.state, j.error ?? '').toBe('running');
    await api.jobs.cancel(job.id);

    // The same token again: refused, whoever asks.
    const body = {
      token: made.token,
      nodeId: 'nod_aaaaaaaaaaaaaaaaaaaa',
      name: 'c',
      internalUrl: 'http://127.0.0.1:9',
      version: onB.version,
      publicKey: 'x'.repeat(60),
    };
    const reused = await join(body);
    expect(reused.status).toBe(409);
    expect((await reused.json()).error.message).toMatch(/unknown, already used or expired/);
  }, 150_000);

  it('an expired token and another version are refused with 409', async () => {
    const short = await api.nodes.createToken({ ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const version = (await (await fetch(`${a!.url}/api/health`)).json()).version as string;
    const body = { nodeId: 'nod_bbbbbbbbbbbbbbbbbbbb', name: 'c', internalUrl: 'http://127.0.0.1:9', publicKey: 'x'.repeat(60) };
    const expired = await join({ ...body, token: short.token, version });
    expect(expired.status).toBe(409);
    const fresh = await api.nodes.createToken({});
    const other = await join({ ...body, token: fresh.token, version: '0.0.0-other' });
    expect(other.status).toBe(409);
    expect((await other.json()).error.message).toBe(
      `node c runs 0.0.0-other, this cluster ${version}: every node must run the same version (stop all, upgrade, start)`,
    );
    // The version check came first: that token is still good, listed as open (the expired one is not), then revoked.
    expect((await api.nodes.tokens()).items.map((t) => t.id)).toContain(fresh.id);
    expect((await api.nodes.tokens()).items.map((t) => t.id)).not.toContain(short.id);
    await api.nodes.revokeToken(fresh.id);
    expect((await api.nodes.tokens()).items.map((t) => t.id)).not.toContain(fresh.id);
  });

  it("an internal route refuses a user's admin token and an unsigned call (401)", async () => {
    const cases: Record<string, string>[] = [
      { authorization: `Bearer ${token}` },
      {},
      { 'x-hangar-node': 'nod_aaaaaaaaaaaaaaaaaaaa', 'x-hangar-signature': 'AAAA' },
    ];
    for (const headers of cases) {
      const res = await fetch(`${b!.url}/api/internal/ping?challenge=${'c'.repeat(32)}`, { headers });
      expect(res.status).toBe(401);
    }
  });

  it('B killed with SIGKILL is shown offline, and online again after a restart', async () => {
    await b!.stop('SIGKILL');
    const off = await until(async () => ((await nodeB())?.online === false ? nodeB() : null), 'node b offline', 60_000, 500);
    expect(off.heartbeatAgeMs).toBeGreaterThanOrEqual(10_000);
    // Removing it while it owns nothing and is offline would work; drain and undrain are kept in the row.
    expect((await api.nodes.drain('b')).state).toBe('draining');
    b = await startB([], b!.dataDir);
    await until(async () => ((await nodeB())?.online ? true : null), 'node b online again', 60_000, 500);
    expect((await api.nodes.undrain('b')).state).toBe('active');
    // An online node cannot be removed; A cannot remove itself.
    await expect(api.nodes.remove('b')).rejects.toThrow(/online/);
    await expect(api.nodes.remove('a')).rejects.toThrow(/node you are talking to/);
  }, 150_000);
});

/**
 * Step 2 (ownership and forwarding), on the same two servers: a machine created on B is
 * operated through A; the owner audits the real user and the forwarding node; B away gives
 * 503 with the reason and the machine shows 'unknown'.
 */
describe('operations forwarded to the owning node', () => {
  let apiB: ApiClient;
  let nodeAId = '';
  /** A browser on A (step 3: events of B's jobs and machines reach it through PostgreSQL). */
  let onA: Socket | undefined;
  const heard: { event: string; id: string; name?: string; state?: string }[] = [];
  afterAll(() => void onA?.close());

  it('a machine made on B is started, exec’d, its logs read and stopped through A; a browser on A hears B’s events', async () => {
    apiB = client(b!.url, token);
    nodeAId = (await api.nodes.list()).items.find((n) => n.name === 'a')!.id;
    onA = socket(a!.url, '/events', { token });
    onA.on('machine:update', (m) => heard.push({ event: 'machine:update', id: m.id, name: m.name, state: m.state }));
    onA.on('machine:removed', (m) => heard.push({ event: 'machine:removed', id: m.id }));
    onA.on('job:update', (j) => heard.push({ event: 'job:update', id: j.id, state: j.state }));
    await connected(onA);
    const built = await jobDone(apiB, await apiB.images.build({ kind: 'busybox' }), 240_000);
    expect(built.state, built.error ?? '').toBe('succeeded');
    const job = await apiB.machines.create({ name: 'on-b', image: 'busybox', memoryMib: 128, start: false });
    const made = await jobDone(apiB, job, 120_000);
    expect(made.error).toBeNull();
    // B ran the job and made the machine; the socket on A was told of both.
    await until(() => heard.find((e) => e.event === 'job:update' && e.id === job.id && e.state === 'succeeded'), "B's job:update on A's socket", 10_000);
    await until(() => heard.find((e) => e.event === 'machine:update' && e.name === 'on-b'), "B's machine:update on A's socket", 10_000);
    const seen = await until(async () => (await api.machines.list()).items.find((m) => m.name === 'on-b'), 'on-b listed on A');
    expect(seen.node?.name).toBe('b');
    expect((await jobDone(api, await api.machines.act('on-b', 'start'), 180_000)).error).toBeNull();
    const ran = await until(
      async () => (await api.machines.exec('on-b', ['sh', '-c', 'echo hello from $(hostname)']).catch(() => null))?.stdout,
      'exec on B through A',
      120_000,
      1000,
    );
    expect(ran).toContain('hello from');
    const logs = await api.machines.logs('on-b', { tail: 50 });
    expect(logs).toBeTruthy();
    expect((await jobDone(api, await api.machines.act('on-b', 'stop', { force: true }), 120_000)).error).toBeNull();
    expect((await apiB.machines.get('on-b')).state).toBe('stopped');
    // A's machine list (kept in memory) read it again when B said it changed.
    await until(async () => ((await api.machines.get('on-b')).state === 'stopped' ? true : null), "on-b stopped in A's list", 10_000, 100);
    // The owner audited the real user, and that A forwarded it.
    const { items } = await apiB.audit.list({ limit: 100 });
    const exec = items.find((e) => e.action === 'machine.exec' && e.targetId === seen.id);
    expect(exec?.actorName).toBe('admin');
    expect(exec?.detail).toMatchObject({ forwardedBy: nodeAId });
  }, 600_000);

  it('placement: a machine made through A goes to the least loaded node (its image copied there); pins kept; unknown or draining refused', async () => {
    const onB = await nodeB();
    expect(onB!.drivers).toEqual(expect.arrayContaining(['qemu']));
    // The node placement should pick: the least share of its memory held by running machines, a tie to B (it holds the image).
    const all = (await api.nodes.list()).items;
    const machines = (await api.machines.list()).items;
    const held = (name: string) =>
      machines.filter((m) => m.node?.name === name && !['stopped', 'failed'].includes(m.state)).reduce((n, m) => n + m.memoryMib, 0) /
      all.find((n) => n.name === name)!.memoryMib;
    const expected = held('a') < held('b') ? 'a' : 'b';
    const job = await api.machines.create({ name: 'placed', image: 'busybox', memoryMib: 128, start: false });
    expect((await jobDone(api, job, 120_000)).error).toBeNull();
    expect((await api.machines.get('placed')).node?.name).toBe(expected);
    // Pinned to B: there.
    const pinned = await api.machines.create({ name: 'pinned', image: 'busybox', memoryMib: 128, start: false, node: 'b' });
    expect((await jobDone(api, pinned, 120_000)).error).toBeNull();
    expect((await api.machines.get('pinned')).node?.name).toBe('b');
    // Pinned to A, which does not hold the image: made there, on a copy of it (cluster-xnode.int.test.ts tests the copies).
    const pinnedA = await api.machines.create({ name: 'pinned-a', image: 'busybox', memoryMib: 128, start: false, node: 'a' });
    expect((await jobDone(api, pinnedA, 120_000)).error).toBeNull();
    expect((await api.machines.get('pinned-a')).node?.name).toBe('a');
    await expect(api.machines.create({ name: 'pinned-x', image: 'busybox', start: false, node: 'nope' })).rejects.toMatchObject({ status: 404 });
    await api.nodes.drain('b');
    try {
      await expect(api.machines.create({ name: 'drained', image: 'busybox', start: false, node: 'b' })).rejects.toMatchObject({
        status: 409,
        message: expect.stringMatching(/node b is draining/),
      });
      // Unpinned, B draining: A takes it.
      const away = await api.machines.create({ name: 'not-drained', image: 'busybox', memoryMib: 128, start: false });
      expect((await jobDone(api, away, 120_000)).error).toBeNull();
      expect((await api.machines.get('not-drained')).node?.name).toBe('a');
    } finally {
      await api.nodes.undrain('b');
    }
    expect((await api.machines.list()).items.map((m) => m.name).filter((n) => n === 'pinned-x' || n === 'drained')).toEqual([]);
    for (const name of ['placed', 'pinned', 'pinned-a', 'not-drained'])
      expect((await jobDone(api, await api.machines.destroy(name), 120_000)).error).toBeNull();
  }, 300_000);

  it('hangar run through A pinned to B runs on B, its stdin streamed there; a pin away from the image runs there on a copy', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cluster-run-'));
    const cli = (args: string[], input = '') =>
      spawnSync(process.execPath, ['dist/cli.js', ...args], {
        input,
        encoding: 'utf8',
        timeout: 180_000,
        env: { ...process.env, HANGAR_URL: a!.url, HANGAR_TOKEN: token },
      });
    try {
      await importBusyboxRootfs(apiB, tmp, 'bb-on-b');
      const r = cli(['run', '--rm', '--node', 'b', 'bb-on-b', '--', 'cat'], 'hello through a\n');
      expect([r.status, r.stdout], r.stderr).toEqual([0, 'hello through a\n']);
      const kept = cli(['run', '--name', 'ran-on-b', '--node', 'b', 'bb-on-b', '--', 'sh', '-c', 'exit 3']);
      expect(kept.status, kept.stderr).toBe(3);
      expect((await api.machines.get('ran-on-b')).node?.name).toBe('b');
      const pinned = cli(['run', '--rm', '--node', 'a', 'bb-on-b', '--', 'cat', '/etc/passwd']);
      expect([pinned.status, pinned.stdout], pinned.stderr).toEqual([0, 'root:x:0:0:root:/root:/bin/sh\n']);
      expect((await jobDone(api, await api.machines.destroy('ran-on-b'), 120_000)).error).toBeNull();
      await api.images.remove((await api.images.list()).items.find((i) => i.name === 'bb-on-b')!.id);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 300_000);

  it('a forged forward is 401, even with a good token beside it', async () => {
    const res = await fetch(`${b!.url}/api/machines/on-b/exec`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-hangar-node': nodeAId,
        'x-hangar-ts': String(Date.now()),
        'x-hangar-nonce': 'n'.repeat(22),
        'x-hangar-forwarded': Buffer.from(JSON.stringify({ userId: 'usr_x', role: 'admin', via: 'token', ip: null })).toString('base64url'),
        'x-hangar-signature': 'AAAA',
      },
      body: JSON.stringify({ argv: ['true'] }),
    });
    expect(res.status).toBe(401);
  });

  /** Step 4: consoles of B's machines opened through A (relayed there, signed by A for the caller). */
  const consoles: Socket[] = [];
  let ctId = '';
  afterAll(() => consoles.forEach((s) => s.close()));
  const keyboard = (s: Socket, sessionId: string, action: string) => new Promise<{ ok: boolean }>((r) => s.emit('keyboard', { sessionId, action }, r));
  const closedOn = (s: Socket) => new Promise<{ sessionId: string; reason: string }>((r) => s.once('closed', r));

  it("a serial console of B's machine opened through A: replay, echo, a read-only viewer and a share link that cannot type, presence, closing", async () => {
    const id = (await api.machines.get('on-b')).id;
    expect((await jobDone(api, await api.machines.act('on-b', 'start'), 180_000)).error).toBeNull();
    const viewerToken = await adminToken(a!.url, 'viewer');
    const op = await serialConsole(a!.url, token, id, 'relay-serial-op', consoles);
    expect(op.reply).toMatchObject({ ok: true, mode: 'interactive' });
    await op.waitFor('/# ');
    op.type('echo relay-$((6*7))-done\n');
    await op.waitFor('relay-42-done');
    // A viewer through A: B decided its mode from the forwarded role; what came before is replayed.
    const v = await serialConsole(a!.url, viewerToken, id, 'relay-serial-v', consoles);
    expect(v.reply).toMatchObject({ ok: true, mode: 'readonly' });
    expect(v.reply.ok && v.reply.replay).toContain('relay-42-done');
    // A read-only share link through A, likewise.
    const link = await api.shares.create('on-b', { role: 'viewer', label: 'relayed' });
    const shared = await serialConsole(a!.url, { share: link.token }, id, 'relay-serial-link', consoles);
    expect(shared.reply).toMatchObject({ ok: true, mode: 'readonly' });
    expect(shared.reply.ok && shared.reply.replay).toContain('relay-42-done');
    // Presence: B's list of who watches, the same on every relayed socket.
    await until(() => op.presence()?.count === 3 && v.presence()?.count === 3 && shared.presence()?.count === 3, 'three viewers through A');
    expect(
      op
        .presence()!
        .viewers.map((x) => `${x.via}:${x.mode}`)
        .sort(),
    ).toEqual(['share:readonly', 'token:interactive', 'token:readonly']);
    // The read-only ones type: B drops it. Their keyboard ask goes the same way after the keys and is refused.
    v.type('echo viewer-$((2*3))-typed\n');
    shared.type('echo link-$((3*3))-typed\n');
    expect(await keyboard(v.s, 'relay-serial-v', 'take')).toMatchObject({ ok: false });
    expect(await keyboard(shared.s, 'relay-serial-link', 'take')).toMatchObject({ ok: false });
    op.type('echo after-$((4+4))-mark\n');
    await op.waitFor('after-8-mark');
    await v.waitFor('after-8-mark');
    await shared.waitFor('after-8-mark');
    expect(op.text()).not.toContain('viewer-6-typed');
    expect(op.text()).not.toContain('link-9-typed');
    // A direct viewer on B sees the relayed ones too.
    const direct = await serialConsole(b!.url, token, id, 'relay-serial-direct', consoles);
    await until(() => direct.presence()?.count === 4, 'four viewers seen on B');
    // Closing a browser's socket on A detaches it on B.
    v.s.close();
    await until(() => op.presence()?.count === 3 && direct.presence()?.count === 3, 'the viewer gone from presence');
    // Revoking the link closes its console through A.
    const linkClosed = new Promise<string>((r) => shared.s.once('disconnect', r));
    await api.shares.revoke(link.share.id);
    await linkClosed;
    // B closes the console (the machine stops): the browser on A is told why.
    const closed = closedOn(op.s);
    expect((await jobDone(api, await api.machines.act('on-b', 'stop', { force: true }), 120_000)).error).toBeNull();
    expect((await closed).sessionId).toBe('relay-serial-op');
    // Audited on B, the machine's node, as the real user relayed by A.
    const nodeA = (await api.nodes.list()).items.find((n) => n.name === 'a')!.id;
    const audit = (await apiB.audit.list({ limit: 200 })).items.filter((e) => e.action === 'console.attach' && e.targetId === 'relay-serial-op');
    expect(audit[0]?.detail).toMatchObject({ forwardedBy: nodeA });
  }, 400_000);

  it("a container's shell on B through A: typed, echoed, resized; a viewer is refused; B's relay namespace refuses users", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-relay-'));
    try {
      await importBusyboxRootfs(apiB, tmp, 'bb-relay', ['sh', 'cat', 'echo', 'sleep', 'stty']);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const made = await api.machines.create({ name: 'ct-b', image: 'bb-relay', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] });
    expect((await jobDone(api, made, 120_000)).error).toBeNull();
    const ct = await api.machines.get('ct-b');
    expect(ct.node?.name).toBe('b');
    ctId = ct.id;
    const sh = await serialConsole(a!.url, token, ctId, 'relay-ssh-op', consoles, 'ssh');
    expect(sh.reply).toMatchObject({ ok: true, mode: 'interactive' });
    sh.type('echo shell-$((5*5))-on-b\n');
    await sh.waitFor('shell-25-on-b');
    sh.s.emit('resize', { sessionId: 'relay-ssh-op', cols: 123, rows: 41 });
    sh.type('stty size\n');
    await sh.waitFor('41 123');
    const viewerToken = await adminToken(a!.url, 'viewer');
    const refused = await serialConsole(a!.url, viewerToken, ctId, 'relay-ssh-v', consoles, 'ssh');
    expect(refused.reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The browser leaves the shell (a detach) and comes back through A on a new socket: B kept it, and replays it.
    sh.s.emit('detach', { sessionId: 'relay-ssh-op' });
    sh.s.close();
    const again = await serialConsole(a!.url, token, ctId, 'relay-ssh-op', consoles, 'ssh');
    expect(again.reply).toMatchObject({ ok: true, mode: 'interactive' });
    expect(again.reply.ok && again.reply.replay).toContain('shell-25-on-b');
    // Ended from inside: the browser on A is told of the exit.
    const ended = new Promise<{ sessionId: string; code: number | null }>((r) => again.s.once('exit', r));
    again.type('exit\n');
    expect(await ended).toEqual({ sessionId: 'relay-ssh-op', code: 0 });
    // The relay namespace: a user's token, a share link or a forged signature never connect.
    const forged = { 'x-hangar-node': 'nod_aaaaaaaaaaaaaaaaaaaa', 'x-hangar-ts': String(Date.now()), 'x-hangar-nonce': 'n'.repeat(22) };
    for (const auth of [{ token }, { ...forged, 'x-hangar-signature': 'AAAA', 'x-hangar-forwarded': 'e30' }]) {
      const s = io(`${b!.url}/console-relay`, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
      consoles.push(s);
      await expect(connected(s)).rejects.toThrow(/unauthorized/);
    }
  }, 300_000);

  it('B stopped: its machine shows unknown (node offline) on A and operations answer 503 with the reason; back, it is destroyed through A', async () => {
    const dataDir = b!.dataDir;
    // A shell of B's container open through A when B goes away: the browser is told, nothing hangs.
    const sh = await serialConsole(a!.url, token, ctId, 'relay-ssh-away', consoles, 'ssh');
    expect(sh.reply).toMatchObject({ ok: true });
    const away = closedOn(sh.s);
    await b!.stop();
    expect(await away).toMatchObject({
      sessionId: 'relay-ssh-away',
      reason: expect.stringMatching(/node b (closed the console's connection|went away|is offline)/),
    });
    expect(sh.s.connected).toBe(true);
    const shown = await until(
      async () => {
        const m = (await api.machines.list()).items.find((x) => x.name === 'on-b');
        return m?.state === 'unknown' ? m : null;
      },
      'on-b unknown on A',
      60_000,
      500,
    );
    expect(shown.stateReason).toBe('node offline');
    const res = await fetch(`${a!.url}/api/machines/on-b/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(503);
    expect((await res.json()).error.message).toMatch(/node b is offline/);
    b = await startB([], dataDir);
    await until(async () => ((await api.machines.list()).items.find((x) => x.name === 'on-b')?.state === 'stopped' ? true : null), 'on-b back', 60_000, 500);
    expect((await jobDone(api, await api.machines.destroy('on-b'), 120_000)).error).toBeNull();
    expect((await jobDone(api, await api.machines.destroy('ct-b'), 120_000)).error).toBeNull();
    await expect(client(b.url, token).machines.get('on-b')).rejects.toMatchObject({ status: 404 });
    // Gone from A's list too, and A's browser was told.
    await until(async () => ((await api.machines.list()).items.some((m) => m.name === 'on-b') ? null : true), "on-b gone from A's list", 10_000, 100);
    const id = heard.find((e) => e.name === 'on-b')!.id;
    await until(() => heard.find((e) => e.event === 'machine:removed' && e.id === id), "machine:removed on A's socket", 10_000);
    // B's image deleted through A: done on B, whose data dir holds its files.
    const image = (await api.images.list()).items.find((i) => i.name === 'busybox')!;
    expect(fs.existsSync(path.join(b.dataDir, 'images', 'busybox'))).toBe(true);
    await api.images.remove(image.id);
    expect(fs.existsSync(path.join(b.dataDir, 'images', 'busybox'))).toBe(false);
  }, 300_000);

  it('a logout on A closes that session’s socket on B', async () => {
    const cookie = await loginCookie(a!.url);
    const onB = socket(b!.url, '/events', { cookie, origin: b!.url });
    try {
      await connected(onB);
      const closed = new Promise<string>((resolve) => onB.once('disconnect', (reason) => resolve(reason)));
      const out = await fetch(`${a!.url}/api/auth/logout`, {
        method: 'POST',
        headers: { cookie, origin: a!.url, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(out.status).toBeLessThan(300);
      expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000))])).toBe('io server disconnect');
    } finally {
      onB.close();
    }
  });
});
