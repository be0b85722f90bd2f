import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import type { AttachReply } from '@/lib/contracts/console';
import { client, connected, jobDone, serialConsole, socket, until, type RunningServer, tearDown, serverWithBusybox } from './harness';
import { importBusyboxRootfs } from './busybox-tree';

/**
 * Share links on a real busybox VM: the holder of a link (no account) watches the console,
 * types only with an operator link, reaches nothing but its machine's serial console, and is
 * cut off the moment the link is revoked or expires.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const sockets: Socket[] = [];
const ids: Record<string, string> = {};

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  for (const n of ['sh-a', 'sh-b']) {
    expect((await jobDone(api, await api.machines.create({ name: n, image: 'busybox', memoryMib: 128 }), 120_000)).error).toBeNull();
    ids[n] = (await api.machines.get(n)).id;
  }
}, 400_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

/** The share page's console: a socket authenticated by the link, attached to a machine's console. */
const shareConsole = (share: string, machineId: string, channel: 'serial' | 'ssh' = 'serial') =>
  serialConsole(srv.url, { share }, machineId, `share-${Math.random().toString(36).slice(2, 10)}`, sockets, channel);

type Op = { 'x-hangar-access'?: string; 'x-hangar-machine-grant'?: string };

/**
 * Every published non-public route called with these headers, on machine sh-a: the routes
 * whose answer differs from `expected` ('allowed' is anything but 401 and 403).
 */
async function everyRoute(headers: Record<string, string>, expected: (path: string, op: Op) => number | 'allowed'): Promise<string[]> {
  const spec = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Op>> };
  const wrong: string[] = [];
  for (const [p, ops] of Object.entries(spec.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      // Public routes, and the logout that would end the caller's session for the routes after it.
      if (op['x-hangar-access'] === 'public' || p === '/api/auth/logout') continue;
      // resume on a running machine: allowed callers hear 409, nothing changes.
      const url = `${srv.url}${p
        .replace('{ref}', 'sh-a')
        .replace('{action}', 'resume')
        .replace(/\{[a-zA-Z]+\}/g, 'zz_aaaaaaaaaaaaaaaaaaaa')}`;
      const res = await fetch(url, {
        method: m.toUpperCase(),
        headers: { ...headers, 'content-type': 'application/json' },
        ...(m === 'get' || m === 'delete' ? {} : { body: '{}' }),
      });
      await res.arrayBuffer();
      const want = expected(p, op);
      const got = res.status === 401 || res.status === 403 ? res.status : 'allowed';
      if (want === 'allowed' ? got !== 'allowed' : res.status !== want) wrong.push(`${m} ${p}: ${res.status}, expected ${want}`);
    }
  }
  return wrong;
}

/** A share link (an admin token beside it, which the link overrides). */
const withLink = (share: string) => ({ 'x-hangar-share': share, authorization: `Bearer ${token}` });

const info = (share: string) => fetch(`${srv.url}/api/share`, { headers: { 'x-hangar-share': share } });

describe('share links', () => {
  let viewerLink: string;
  let viewerId: string;

  it('a read-only link shows the console live and drops its keystrokes; it opens nothing else', async () => {
    const made = await api.shares.create('sh-a', { role: 'viewer', label: 'for sam' });
    expect(made.path).toBe(`/s/${made.token}`);
    expect(made.token).toMatch(/^hgs_[A-Za-z0-9_-]{40,}$/);
    expect(made.share).toMatchObject({ role: 'viewer', label: 'for sam', state: 'active', createdBy: 'admin' });
    expect(made.share.expiresAt - made.share.createdAt).toBe(86_400_000);
    viewerLink = made.token;
    viewerId = made.share.id;
    expect(await (await info(viewerLink)).json()).toMatchObject({ machine: { name: 'sh-a', id: ids['sh-a'] }, role: 'viewer', label: 'for sam' });

    const admin = await serialConsole(srv.url, token, ids['sh-a'], 'admin-share-1', sockets);
    const guest = await shareConsole(viewerLink, ids['sh-a']);
    expect(guest.reply).toMatchObject({ ok: true, mode: 'readonly' });
    admin.type('echo shared-$((6*7))\n');
    await guest.waitFor('shared-42');
    guest.type('echo typed-by-guest-$((1+1))\n');
    admin.type('echo after-$((2+3))\n');
    await guest.waitFor('after-5');
    expect(admin.text()).not.toContain('typed-by-guest-2');

    // Its own machine's serial console only.
    expect((await shareConsole(viewerLink, ids['sh-b'])).reply).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await shareConsole(viewerLink, ids['sh-a'], 'ssh')).reply).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const events = socket(srv.url, '/events', { share: viewerLink });
    sockets.push(events);
    await expect(connected(events)).rejects.toThrow(/forbidden/);
    // Every other API route refuses a link (generated from the published routes), even with an admin token beside it.
    // Node-to-node routes take only a node's signature: a link is not one (401).
    expect(await everyRoute(withLink(viewerLink), (p, op) => (op['x-hangar-access'] === 'node' ? 401 : p === '/api/share' ? 200 : 403))).toEqual([]);
    expect((await api.machines.get('sh-a')).state).toBe('running');
  }, 120_000);

  it('an operator link types; the owner sees each link, when it was used, and the uses in the audit log', async () => {
    const op = await api.shares.create('sh-a', { role: 'operator', expiresInSeconds: 3600 });
    const guest = await shareConsole(op.token, ids['sh-a']);
    expect(guest.reply).toMatchObject({ ok: true, mode: 'interactive' });
    guest.type('echo from-the-link-$((3*3))\n');
    await guest.waitFor('from-the-link-9');
    const list = (await api.shares.list('sh-a')).items;
    expect(list.map((s) => s.role).sort()).toEqual(['operator', 'viewer']);
    expect(list.every((s) => s.lastUsedAt !== null && s.state === 'active')).toBe(true);
    const uses = (await api.audit.list({ action: 'console.attach', actor: op.share.id })).items;
    expect(uses[0]).toMatchObject({ actorKind: 'share', detail: { shareId: op.share.id, mode: 'interactive' } });
    expect(uses[0].ip).toBeTruthy();
  }, 60_000);

  it('a revoked link stops at once: its open console closes, requests and new sockets are refused', async () => {
    const guest = await shareConsole(viewerLink, ids['sh-a']);
    expect(guest.reply.ok).toBe(true);
    expect((await api.shares.revoke(viewerId)).state).toBe('revoked');
    await until(() => !guest.s.connected, 'the shared console to close', 5000);
    expect((await info(viewerLink)).status).toBe(401);
    expect(await everyRoute(withLink(viewerLink), () => 401)).toEqual([]);
    const again = socket(srv.url, '/console', { share: viewerLink });
    sockets.push(again);
    await expect(connected(again)).rejects.toThrow(/expired or was revoked/);
    expect((await api.audit.list({ action: 'share.revoke' })).items[0].detail).toMatchObject({ shareId: viewerId });
  }, 30_000);

  it('a viewer given one machine operates it, and only it, from the browser; an owner grant also shares it; removing the grant takes it back', async () => {
    await api.users.create({ username: 'vic', role: 'viewer', password: 'vic-password-1' });
    const login = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: srv.url },
      body: JSON.stringify({ username: 'vic', password: 'vic-password-1' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const vic = createApiClient({
      baseUrl: srv.url,
      fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie, origin: srv.url } }),
    });
    await expect(vic.machines.act('sh-a', 'pause')).rejects.toMatchObject({ status: 403 });
    const g = await api.grants.put('sh-a', { username: 'vic', role: 'operator' });
    expect(g).toMatchObject({ username: 'vic', role: 'operator' });
    expect((await jobDone(api, await vic.machines.act('sh-a', 'pause'))).error).toBeNull();
    expect((await jobDone(api, await vic.machines.act('sh-a', 'resume'))).error).toBeNull();
    await expect(vic.machines.act('sh-b', 'pause')).rejects.toMatchObject({ status: 403 });
    // Every route as this grant holder: a viewer's, plus what an operator grant opens on sh-a.
    const rank: Record<string, number> = { member: 0, viewer: 1, operator: 2, admin: 3 };
    const grantRank: Record<string, number> = { viewer: 1, operator: 2, owner: 3 };
    const asVic = { cookie, origin: srv.url };
    expect(
      await everyRoute(asVic, (p, op) => {
        const access = op['x-hangar-access']!;
        if (access === 'node') return 401;
        if (rank[access] <= rank.viewer) return 'allowed';
        const grant = op['x-hangar-machine-grant'];
        return p.includes('{ref}') && grant && grantRank[grant] <= grantRank.operator ? 'allowed' : 403;
      }),
    ).toEqual([]);
    // The checkpoint it was allowed to start runs to its end before the next steps.
    await until(async () => (await api.jobs.list({ limit: 20 })).items.every((j) => j.state !== 'running' && j.state !== 'queued'), 'jobs to settle', 60_000);
    // Destroying, sharing and granting need the owner grant.
    await expect(vic.machines.destroy('sh-a')).rejects.toMatchObject({ status: 403 });
    await expect(vic.shares.create('sh-a', {})).rejects.toMatchObject({ status: 403 });
    // The console: typing on the granted machine, watching the other.
    const cons = socket(srv.url, '/console', { cookie, origin: srv.url });
    sockets.push(cons);
    await connected(cons);
    const attach = (machineId: string) =>
      new Promise<AttachReply>((resolve) =>
        cons.emit(
          'attach',
          { sessionId: `vic-${machineId.slice(-6)}`, target: { kind: 'machine', machineId, channel: 'serial' }, mode: 'interactive' },
          resolve,
        ),
      );
    expect(await attach(ids['sh-a'])).toMatchObject({ ok: true, mode: 'interactive' });
    expect(await attach(ids['sh-b'])).toMatchObject({ ok: true, mode: 'readonly' });
    // vic's API token acts as vic (the CLI); one made weaker than vic does not gain from the grant.
    const tok = await vic.tokens.create({ name: 'vic-cli' });
    expect((await jobDone(api, await client(srv.url, tok.secret).machines.act('sh-a', 'pause'))).error).toBeNull();
    expect((await jobDone(api, await client(srv.url, tok.secret).machines.act('sh-a', 'resume'))).error).toBeNull();
    // (a member-role token: machines not given to it do not exist for it)
    const weak = await vic.tokens.create({ name: 'vic-weak', role: 'member' });
    await expect(client(srv.url, weak.secret).machines.act('sh-a', 'pause')).rejects.toMatchObject({ status: 404 });
    await api.grants.put('sh-a', { username: 'vic', role: 'owner' });
    expect((await vic.shares.create('sh-a', { expiresInSeconds: 60 })).share.role).toBe('viewer');
    expect((await vic.grants.list('sh-a')).items.map((x) => [x.username, x.role])).toEqual([['vic', 'owner']]);
    await api.grants.remove('sh-a', g.userId);
    await expect(vic.machines.act('sh-a', 'pause')).rejects.toMatchObject({ status: 403 });
    await expect(api.grants.put('sh-a', { username: 'nobody-here', role: 'viewer' })).rejects.toMatchObject({ status: 404 });
    await expect(api.grants.put('sh-a', { username: 'vic', role: 'admin' as never })).rejects.toMatchObject({ status: 400 });
    expect((await api.audit.list({ action: 'grant.' })).items.map((e) => e.action)).toEqual(['grant.remove', 'grant.put', 'grant.put']);
  }, 120_000);

  it('a member sees only the machines given to them: the list, the events, the console; any other machine is not found', async () => {
    await api.users.create({ username: 'mia', role: 'member', password: 'mia-password-1' });
    const login = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: srv.url },
      body: JSON.stringify({ username: 'mia', password: 'mia-password-1' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const mia = createApiClient({
      baseUrl: srv.url,
      fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie, origin: srv.url } }),
    });
    expect((await mia.machines.list()).items).toEqual([]);
    // A machine not given to her and a missing one: the same words, each named as she asked for it (never by its id).
    await expect(mia.machines.get('sh-a')).rejects.toMatchObject({ status: 404, message: 'Machine "sh-a" not found.' });
    await expect(mia.machines.get('no-such')).rejects.toMatchObject({ status: 404, message: 'Machine "no-such" not found.' });
    await expect(mia.images.list()).rejects.toMatchObject({ status: 403 });
    await api.grants.put('sh-a', { username: 'mia', role: 'viewer' });
    expect((await mia.machines.list()).items.map((m) => m.name)).toEqual(['sh-a']);
    expect((await mia.machines.get('sh-a')).name).toBe('sh-a');
    await expect(mia.machines.get('sh-b')).rejects.toMatchObject({ status: 404, message: 'Machine "sh-b" not found.' });
    // So in a bulk action, where the machine is read before its grant is asked.
    const bulk = await mia.machines.bulk({ action: 'pause', machines: ['sh-b', 'no-such'] });
    expect(bulk.results.map((r) => r.error)).toEqual([
      { code: 'not_found', message: 'Machine "sh-b" not found.' },
      { code: 'not_found', message: 'Machine "no-such" not found.' },
    ]);
    await expect(mia.machines.act('sh-a', 'pause')).rejects.toMatchObject({ status: 403 });
    await expect(mia.machines.act('sh-b', 'pause')).rejects.toMatchObject({ status: 404 });
    const cons = socket(srv.url, '/console', { cookie, origin: srv.url });
    sockets.push(cons);
    await connected(cons);
    const attach = (machineId: string) =>
      new Promise<AttachReply>((resolve) =>
        cons.emit(
          'attach',
          { sessionId: `mia-${machineId.slice(-6)}`, target: { kind: 'machine', machineId, channel: 'serial' }, mode: 'interactive' },
          resolve,
        ),
      );
    expect(await attach(ids['sh-a'])).toMatchObject({ ok: true, mode: 'readonly' });
    expect(await attach(ids['sh-b'])).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // Events: changes of sh-a reach her, those of sh-b do not.
    const events = socket(srv.url, '/events', { cookie, origin: srv.url });
    sockets.push(events);
    const seen: string[] = [];
    events.on('machine:update', (m: { name: string; state: string }) => seen.push(`${m.name}:${m.state}`));
    await connected(events);
    await new Promise((r) => setTimeout(r, 300));
    await jobDone(api, await api.machines.act('sh-b', 'pause'));
    await jobDone(api, await api.machines.act('sh-a', 'pause'));
    await until(() => seen.includes('sh-a:paused'), 'the paused event of sh-a', 10_000);
    expect(seen.filter((x) => x.startsWith('sh-b'))).toEqual([]);
    await jobDone(api, await api.machines.act('sh-a', 'resume'));
    await jobDone(api, await api.machines.act('sh-b', 'resume'));
  }, 120_000);

  it("an operator link also opens the machine's shell where it has one (a fork link's page shows it as a tab); a read-only link does not", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-share-shell-'));
    try {
      await importBusyboxRootfs(api, tmp, 'bb-share');
      expect(
        (
          await jobDone(
            api,
            await api.machines.create({ name: 'sh-ct', image: 'bb-share', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] }),
          )
        ).error,
      ).toBeNull();
      const ct = await api.machines.get('sh-ct');
      const op = await api.shares.create('sh-ct', { role: 'operator' });
      expect(await (await info(op.token)).json()).toMatchObject({ shell: { label: ct.capabilities.consoles.shell!.label }, role: 'operator' });
      const shell = await shareConsole(op.token, ct.id, 'ssh');
      expect(shell.reply).toMatchObject({ ok: true, mode: 'interactive' });
      shell.type('echo shell-from-link-$((7*6))\n');
      await shell.waitFor('shell-from-link-42');
      const ro = await api.shares.create('sh-ct', { role: 'viewer' });
      expect(await (await info(ro.token)).json()).toMatchObject({ shell: null, role: 'viewer' });
      expect((await shareConsole(ro.token, ct.id, 'ssh')).reply).toMatchObject({ ok: false, error: { code: 'not_found' } });
      // A busybox VM has no sshd: its operator link offers no shell, and asking for one says why.
      const vm = await api.shares.create('sh-a', { role: 'operator' });
      expect(await (await info(vm.token)).json()).toMatchObject({ shell: null });
      expect((await shareConsole(vm.token, ids['sh-a'], 'ssh')).reply).toMatchObject({ ok: false, error: { code: 'conflict' } });
      await jobDone(api, await api.machines.destroy('sh-ct'));
      await api.images.remove((await api.images.list()).items.find((i) => i.name === 'bb-share')!.id);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('an expired link stops too, open consoles included; destroying the machine removes its links', async () => {
    const short = await api.shares.create('sh-a', { role: 'viewer', expiresInSeconds: 5 });
    const guest = await shareConsole(short.token, ids['sh-a']);
    expect(guest.reply.ok).toBe(true);
    await until(() => !guest.s.connected, 'the expired link console to close', 10_000);
    expect((await info(short.token)).status).toBe(401);
    expect(await everyRoute(withLink(short.token), () => 401)).toEqual([]);
    expect((await api.shares.list('sh-a')).items.find((s) => s.id === short.share.id)?.state).toBe('expired');
    await expect(api.shares.create('sh-a', { role: 'admin' as never })).rejects.toMatchObject({ status: 400 });
    await expect(api.shares.create('no-such', {})).rejects.toMatchObject({ status: 404 });
    await jobDone(api, await api.machines.destroy('sh-b'));
    const b = await api.shares.create('sh-a', {});
    await jobDone(api, await api.machines.destroy('sh-a'));
    expect((await info(b.token)).status).toBe(401);
  }, 60_000);
});
