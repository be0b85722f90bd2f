import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { OpenedFork } from '@/lib/contracts/fork-links';
import { run } from '@/server/drivers/exec';
import { client, jobDone, serialConsole, serverWithBusybox, startServer, tearDown, until, type RunningServer } from './harness';

/**
 * Fork links on real QEMU (TCG) with the busybox image: each browser (a cookie jar) that opens
 * the link gets a fork of its own carrying on from the snapshot, and the same one on reopening;
 * a burst of 20 opens makes at most the maximum; a fork that cannot start gives its slot back;
 * revoking closes the forks' consoles and destroys them; a link's expiry and a fork's lifetime
 * hold across a restart (the test moves the server's clock: HANGAR_CLOCK_SKEW_MS, no waiting).
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const sockets: Socket[] = [];

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  expect((await jobDone(api, await api.machines.create({ name: 'fl-src', image: 'busybox', memoryMib: 128 }), 120_000)).error).toBeNull();
  await api.machines.exec('fl-src', ['sh', '-c', 'echo carried-$((20+22)) > /tmp/mark']);
}, 400_000);

afterAll(() => tearDown(srv, api, sockets), 180_000);

/** A browser: its cookies kept between requests, as Chromium keeps them. */
class Jar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }
}

type Opened = { status: number; body: OpenedFork & { error?: { code: string; message: string; issues?: { path: string; message: string }[] } } };
async function open(linkToken: string, jar: Jar, url = srv.url): Promise<Opened> {
  const res = await fetch(`${url}/api/fork-link/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url, cookie: jar.header(), 'user-agent': 'fork-link-test' },
    body: JSON.stringify({ token: linkToken }),
  });
  jar.keep(res);
  return { status: res.status, body: await res.json() };
}
const stateOf = (o: Opened) => o.body.error?.issues?.find((i) => i.path === 'forkLink.state')?.message;

const forkConsole = (share: string, machineId: string) =>
  serialConsole(srv.url, { share }, machineId, `fork-${Math.random().toString(36).slice(2, 10)}`, sockets);

describe('fork links', () => {
  let first: { id: string; token: string };
  let snapshotId: string;
  const a = new Jar();
  const b = new Jar();
  let forkA: OpenedFork;

  it('two browsers get two forks carrying on from "now"; the same browser gets its own back; a fork credential opens that fork only', async () => {
    const made = await api.forkLinks.create({ machine: 'fl-src', maxForks: 3, lifetimeSeconds: 3600, expiresInSeconds: 7200, label: 'demo' });
    expect(made.path).toBe(`/f/${made.token}`);
    expect(made.link).toMatchObject({ maxForks: 3, used: 0, state: 'active', label: 'demo', createdBy: 'admin' });
    first = { id: made.link.id, token: made.token };
    snapshotId = made.link.snapshotId;
    expect((await api.snapshots.get(snapshotId)).kind).toBe('live');

    const oa = await open(made.token, a);
    expect(oa.status).toBe(200);
    forkA = oa.body;
    const ob = await open(made.token, b);
    expect(ob.status).toBe(200);
    expect(forkA.reopened).toBe(false);
    expect(ob.body.machine.id).not.toBe(forkA.machine.id);
    expect(forkA.machine.state).toBe('running');

    const again = await open(made.token, a);
    expect(again.body).toMatchObject({ reopened: true, machine: { id: forkA.machine.id } });
    expect((await api.forkLinks.get(first.id)).used).toBe(2);

    // Each fork carries on from the instant of the link, and is its opener's to type into.
    const ca = await forkConsole(forkA.share, forkA.machine.id);
    expect(ca.reply).toMatchObject({ ok: true, mode: 'interactive' });
    ca.type('cat /tmp/mark; echo in-a-$((2*3))\n');
    await ca.waitFor('carried-42');
    await ca.waitFor('in-a-6');
    expect((await forkConsole(forkA.share, ob.body.machine.id)).reply).toMatchObject({ ok: false, error: { code: 'not_found' } });

    const forks = (await api.forkLinks.forks(first.id)).items;
    expect(forks.map((f) => f.state)).toEqual(['running', 'running']);
    expect(forks.every((f) => f.userAgent === 'fork-link-test' && !!f.ip)).toBe(true);
    const audit = (await api.audit.list({ action: 'forklink.' })).items.map((e) => e.action);
    expect(audit.filter((x) => x === 'forklink.open')).toHaveLength(2);
    expect(audit).toContain('forklink.create');

    // Adopted: the owner's machine for good, and no longer the opener's.
    const fb = forks.find((f) => f.machineId === ob.body.machine.id)!;
    const adopted = await api.forkLinks.act(first.id, fb.id, 'adopt');
    expect(adopted.fork.state).toBe('adopted');
    await expect(forkConsole(ob.body.share, ob.body.machine.id)).rejects.toThrow(/expired or was revoked/);
  }, 300_000);

  it('a burst of 20 opens makes at most the maximum; the rest hear "used up"; revoking closes consoles and destroys the forks', async () => {
    const made = await api.forkLinks.create({ snapshot: snapshotId, maxForks: 3, lifetimeSeconds: 600 });
    const results = await Promise.all(Array.from({ length: 20 }, () => open(made.token, new Jar())));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(3);
    expect(results.filter((r) => r.status === 409 && stateOf(r) === 'used_up')).toHaveLength(17);
    expect(results.find((r) => r.status === 409)!.body.error!.message).toMatch(/used up/);
    expect(new Set(ok.map((r) => r.body.machine.id)).size).toBe(3);
    expect(await api.forkLinks.get(made.link.id)).toMatchObject({ used: 3, state: 'used_up' });

    const watching = await forkConsole(ok[0].body.share, ok[0].body.machine.id);
    expect(watching.reply.ok).toBe(true);
    expect((await api.forkLinks.revoke(made.link.id, 'destroy')).state).toBe('revoked');
    await until(() => !watching.s.connected, 'the fork console to close', 10_000);
    const left = (await api.machines.list()).items.map((m) => m.id);
    for (const r of ok) expect(left).not.toContain(r.body.machine.id);
    expect((await api.forkLinks.forks(made.link.id)).items.map((f) => f.state)).toEqual(['destroyed', 'destroyed', 'destroyed']);
    const after = await open(made.token, new Jar());
    expect([after.status, stateOf(after)]).toEqual([404, 'revoked']);
    expect((await api.audit.list({ action: 'forklink.revoke' })).items[0].detail).toMatchObject({ linkId: made.link.id, forks: 'destroy' });
  }, 300_000);

  it('a fork that cannot be made (the owner is at a limit) gives its slot back and its opener hears why', async () => {
    const me = await api.limits.mine();
    await api.limits.put(me.userId, { overrides: { machines: me.usage.machines } });
    try {
      const made = await api.forkLinks.create({ snapshot: snapshotId, maxForks: 1 });
      const r = await open(made.token, new Jar());
      expect([r.status, stateOf(r)]).toEqual([409, 'failed']);
      expect(r.body.error!.message).toMatch(/limit/i);
      expect((await api.forkLinks.get(made.link.id)).used).toBe(0);
      expect((await api.forkLinks.forks(made.link.id)).items[0]).toMatchObject({ state: 'failed' });
    } finally {
      await api.limits.put(me.userId, { overrides: {} });
    }
  }, 120_000);

  it('the CLI makes, lists and revokes a link; a bad duration is a usage error', async () => {
    const env = { HANGAR_URL: srv.url, HANGAR_TOKEN: token, XDG_CONFIG_HOME: `${srv.dataDir}/cli-home` };
    const hangar = (...args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 30_000, env });
    const made = await hangar('fork-link', 'create', snapshotId, '--max', '2', '--lifetime', '2h', '--expires', '1d', '--label', 'from-cli', '--json');
    expect(made.code).toBe(0);
    const link = JSON.parse(made.stdout) as { link: { id: string; maxForks: number; lifetimeSeconds: number }; url: string };
    expect(link.link).toMatchObject({ maxForks: 2, lifetimeSeconds: 7200 });
    expect(link.url).toMatch(new RegExp(`^${srv.url}/f/hgf_`));
    expect((await hangar('fork-link', 'ls')).stdout).toMatch(new RegExp(`${link.link.id} "from-cli"  active  0/2 forks  each 2h`));
    const bad = await hangar('fork-link', 'create', snapshotId, '--lifetime', '2x');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--lifetime 2x: a duration like 90s, 30m, 2h or 1d')]);
    expect((await hangar('fork-link', 'revoke', link.link.id, '--keep-forks')).stdout).toMatch(/its forks are kept/);
    expect((await api.forkLinks.get(link.link.id)).state).toBe('revoked');
  }, 60_000);

  it('after the lifetime (a restart, the clock moved on) the server destroys the forks; the expired link opens nothing', async () => {
    await srv.stop();
    srv = await startServer({ dataDir: srv.dataDir, ownDataDir: srv.owned, env: { HANGAR_CLOCK_SKEW_MS: String(3 * 3600_000) } });
    api = client(srv.url, token);
    await until(
      async () => (await api.forkLinks.forks(first.id)).items.some((f) => f.state === 'destroyed'),
      'the forks whose lifetime ended to be destroyed',
      120_000,
      500,
    );
    const ids = (await api.machines.list()).items.map((m) => m.id);
    expect(ids).not.toContain(forkA.machine.id);
    const forks = (await api.forkLinks.forks(first.id)).items;
    expect(forks.map((f) => [f.state, f.reason])).toEqual(
      expect.arrayContaining([
        ['destroyed', 'its lifetime ended'],
        ['adopted', expect.any(String)],
      ]),
    );
    // The adopted fork is the owner's machine: no lifetime any more.
    expect(ids).toContain(forks.find((f) => f.state === 'adopted')!.machineId);
    expect((await api.forkLinks.get(first.id)).state).toBe('expired');
    const r = await open(first.token, new Jar());
    expect([r.status, stateOf(r)]).toEqual([404, 'expired']);
    expect(r.body.error!.message).toMatch(/expired/);
  }, 300_000);
});
