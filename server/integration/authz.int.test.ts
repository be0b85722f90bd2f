import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '@/lib/roles';
import { hasRole } from '@/lib/roles';
import { adminToken, client, type RunningServer, socket, startServer, tearDown } from './harness';

/**
 * The authorization matrix, generated from the route table the server publishes (each
 * operation's x-hangar-access in /api/openapi.json): every route, called by every kind of
 * caller, is allowed or refused exactly as RULES says. A route added without a rule here, or
 * whose rule changed, fails the test; so does one whose handler lets the wrong caller in.
 */
// 'node': only another node of the cluster, by its signature; every user (admin included) gets 401.
type Access = 'public' | 'node' | Role;
const RULES: Record<string, Access> = {
  'get /health': 'public',
  'get /nodes': 'admin',
  'get /nodes/join-tokens': 'admin',
  'post /nodes/join-tokens': 'admin',
  'delete /nodes/join-tokens/{id}': 'admin',
  'post /nodes/{name}/drain': 'admin',
  'post /nodes/{name}/undrain': 'admin',
  'delete /nodes/{name}': 'admin',
  'post /cluster/join': 'public',
  'get /internal/ping': 'node',
  'get /internal/snapshots/{ref}/archive': 'node',
  'post /internal/replicas/sweep': 'node',
  'post /internal/moves/check': 'node',
  'post /internal/moves/image': 'node',
  'post /internal/moves/receive': 'node',
  'get /internal/moves/{id}/files/{name}': 'node',
  'post /internal/moves/{id}/settle': 'node',
  'post /internal/moves/{id}/abort': 'node',
  'get /internal/images/{id}/archive': 'node',
  'get /internal/images/{id}/boot': 'node',
  'post /internal/image-copies/sweep': 'node',
  'post /auth/login': 'public',
  'post /auth/logout': 'member',
  'get /auth/me': 'member',
  'get /auth/prefs': 'member',
  'put /auth/prefs': 'member',
  'post /auth/password': 'member',
  'get /auth/sessions': 'member',
  'delete /auth/sessions/{id}': 'member',
  'get /tokens': 'member',
  'post /tokens': 'member',
  'post /auth/cli-login': 'member',
  'post /auth/cli-token': 'public',
  'delete /tokens/{id}': 'member',
  'get /users': 'admin',
  'post /users': 'admin',
  'patch /users/{id}': 'admin',
  'delete /users/{id}': 'admin',
  'post /users/{id}/password': 'admin',
  'get /auth/limits': 'member',
  'get /users/limits': 'admin',
  'put /users/{id}/limits': 'admin',
  'get /auth/sign-in-options': 'public',
  'get /sso/providers': 'admin',
  'post /sso/providers': 'admin',
  'patch /sso/providers/{id}': 'admin',
  'delete /sso/providers/{id}': 'admin',
  'get /audit': 'admin',
  'get /audit/export': 'admin',
  'get /host': 'viewer',
  'get /drivers': 'viewer',
  'get /settings': 'viewer',
  'patch /settings': 'admin',
  'get /jobs': 'viewer',
  'get /jobs/{id}': 'viewer',
  'get /jobs/{id}/logs': 'viewer',
  'post /jobs/{id}/cancel': 'operator',
  'post /jobs/demo': 'operator',
  'get /images': 'viewer',
  'post /images': 'operator',
  'delete /images/{id}': 'operator',
  'post /images/pull': 'operator',
  'post /images/import': 'operator',
  'post /images/rootfs': 'operator',
  'post /images/rootfs/url': 'operator',
  'post /images/disk': 'operator',
  'post /images/disk/from': 'operator',
  'get /images/signing-key': 'viewer',
  'post /images/{name}/publish': 'operator',
  'post /images/pull-published': 'operator',
  'get /backup-targets/{target}/images': 'operator',
  'get /isos': 'viewer',
  'post /isos': 'operator',
  'post /isos/url': 'operator',
  'delete /isos/{iso}': 'operator',
  'get /registries': 'admin',
  'put /registries/{host}': 'admin',
  'delete /registries/{host}': 'admin',
  'post /machines/{ref}/stdin/{id}': 'operator',
  'get /machines': 'member',
  'post /machines': 'operator',
  'post /machines/run': 'operator',
  'post /machines/adopt': 'operator',
  'post /machines/bulk': 'member',
  'get /stats/host': 'viewer',
  'get /stats/machines': 'member',
  'get /machines/{ref}/stats': 'viewer',
  'get /machines/{ref}': 'viewer',
  'delete /machines/{ref}': 'operator',
  'post /machines/{ref}/{action}': 'operator',
  'post /machines/{ref}/checkpoint': 'operator',
  'get /machines/{ref}/diff': 'operator',
  'post /machines/{ref}/exec': 'operator',
  'post /machines/{ref}/exec/stream': 'operator',
  'get /machines/{ref}/files': 'operator',
  'get /machines/{ref}/files/archive': 'operator',
  'put /machines/{ref}/files/archive': 'operator',
  'get /machines/{ref}/files/content': 'operator',
  'put /machines/{ref}/files/content': 'operator',
  'post /machines/{ref}/fork': 'operator',
  'post /machines/{ref}/move': 'operator',
  'get /machines/{ref}/logs': 'viewer',
  'get /machines/{ref}/unit': 'operator',
  'patch /machines/{ref}': 'operator',
  'get /machines/{ref}/recordings': 'viewer',
  'get /machines/{ref}/recordings/{id}': 'viewer',
  'get /machines/{ref}/recordings/{id}/markers': 'viewer',
  'delete /machines/{ref}/recordings/{id}': 'operator',
  'get /snapshots': 'viewer',
  'get /snapshots/{ref}': 'viewer',
  'patch /snapshots/{ref}': 'operator',
  'delete /snapshots/{ref}': 'operator',
  'get /snapshots/{ref}/export': 'operator',
  'get /snapshots/{a}/diff/{b}': 'operator',
  'post /snapshots/{ref}/fork': 'operator',
  'post /snapshots/{ref}/restore': 'operator',
  'post /snapshots/{ref}/hot': 'operator',
  'post /snapshots/gc': 'operator',
  'post /snapshots/import': 'operator',
  'post /probes': 'operator',
  'post /probes/packages': 'operator',
  'post /steps/build': 'operator',
  'get /steps/catalog': 'viewer',
  'get /steps/nodes': 'viewer',
  'delete /steps/nodes/{key}': 'operator',
  'post /machines/{ref}/shares': 'operator',
  'get /machines/{ref}/shares': 'operator',
  'delete /shares/{id}': 'operator',
  'get /share': 'viewer',
  'post /machines/{ref}/recordings/{id}/shares': 'operator',
  'get /share/recording': 'viewer',
  'get /share/recording/cast': 'viewer',
  'get /share/recording/markers': 'viewer',
  'post /fork-links': 'operator',
  'get /fork-links': 'operator',
  'get /fork-links/{id}': 'operator',
  'delete /fork-links/{id}': 'operator',
  'get /fork-links/{id}/forks': 'operator',
  'post /fork-links/{id}/forks/{forkId}/{action}': 'operator',
  // Whoever holds a fork link opens it: no account (the token in the body is the credential).
  'post /fork-link/open': 'public',
  'get /machines/{ref}/grants': 'operator',
  'get /machines/{ref}/access': 'viewer',
  'post /machines/{ref}/grants': 'operator',
  'delete /machines/{ref}/grants/{userId}': 'operator',
  'get /webhooks': 'admin',
  'post /webhooks': 'admin',
  'get /webhooks/{id}': 'admin',
  'patch /webhooks/{id}': 'admin',
  'delete /webhooks/{id}': 'admin',
  'get /webhooks/{id}/deliveries': 'admin',
  'post /webhooks/{id}/deliveries/{delivery}/redeliver': 'admin',
  'get /backup-targets': 'operator',
  'post /backup-targets': 'admin',
  'delete /backup-targets/{target}': 'admin',
  'get /backup-targets/{target}/backups': 'operator',
  'delete /backup-targets/{target}/backups/{backup}': 'operator',
  'post /backup-targets/{target}/backups/{backup}/restore': 'operator',
  'post /snapshots/{snapshot}/backup': 'operator',
  'get /schedules': 'viewer',
  'post /schedules': 'operator',
  'get /schedules/{id}': 'viewer',
  'delete /schedules/{id}': 'operator',
  'post /schedules/{id}/run': 'operator',
  'get /machines/{ref}/schedules': 'viewer',
  'post /machines/{ref}/schedules': 'operator',
  'get /machines/{ref}/undo': 'viewer',
  'put /machines/{ref}/undo': 'operator',
  'delete /machines/{ref}/undo': 'operator',
  'post /machines/{ref}/undo': 'operator',
  'get /ssh-keys': 'member',
  'post /ssh-keys': 'member',
  'delete /ssh-keys/{id}': 'member',
  'get /ssh/hosts': 'member',
  'get /machines/{ref}/ssh-host-keys': 'operator',
  'get /machines/{ref}/ssh-tunnel': 'operator',
  'get /machines/{ref}/display': 'viewer',
  'post /machines/{ref}/cdrom': 'operator',
  'get /machines/{ref}/screenshot': 'viewer',
  'get /machines/{ref}/disks': 'viewer',
  'post /machines/{ref}/disks': 'operator',
  'patch /machines/{ref}/disks/{name}': 'operator',
  'delete /machines/{ref}/disks/{name}': 'operator',
  'get /metrics/token': 'admin',
  'post /metrics/token': 'admin',
  'delete /metrics/token': 'admin',
};

type Caller = { name: string; token: string | null; role: Role | null };
let srv: RunningServer;
const callers: Caller[] = [];

async function tokenFor(username: string, password: string): Promise<string> {
  const login = await fetch(`${srv.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: srv.url },
    body: JSON.stringify({ username, password }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  const r = await fetch(`${srv.url}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: srv.url, cookie },
    body: JSON.stringify({ name: `matrix-${username}` }),
  });
  return ((await r.json()) as { secret: string }).secret;
}

beforeAll(async () => {
  srv = await startServer();
  const adminTok = await adminToken(srv.url);
  const admin = client(srv.url, adminTok);
  for (const role of ['member', 'viewer', 'operator'] as const) await admin.users.create({ username: `m-${role}`, role, password: `${role}-password-1` });
  await admin.users.create({ username: 'm-gone', role: 'admin', password: 'gone-password-1' });
  const revoked = await admin.tokens.create({ name: 'revoked' });
  await admin.tokens.revoke(revoked.token.id);
  // A token whose user was disabled afterwards, and an operator's token asking for less.
  const goneTok = await tokenFor('m-gone', 'gone-password-1');
  await admin.users.update((await admin.users.list()).items.find((u) => u.username === 'm-gone')!.id, { disabled: true });
  const opAsViewer = client(srv.url, await tokenFor('m-operator', 'operator-password-1'));
  callers.push(
    { name: 'anonymous', token: null, role: null },
    { name: 'malformed token', token: 'hgr_not-a-real-token', role: null },
    { name: 'revoked token', token: revoked.secret, role: null },
    { name: 'disabled user', token: goneTok, role: null },
    { name: 'member', token: await tokenFor('m-member', 'member-password-1'), role: 'member' },
    { name: 'viewer', token: await tokenFor('m-viewer', 'viewer-password-1'), role: 'viewer' },
    { name: 'operator token with the viewer role', token: (await opAsViewer.tokens.create({ name: 'low', role: 'viewer' })).secret, role: 'viewer' },
    { name: 'operator', token: await tokenFor('m-operator', 'operator-password-1'), role: 'operator' },
    { name: 'admin', token: adminTok, role: 'admin' },
  );
}, 60_000);

afterAll(async () => {
  await tearDown(srv, undefined);
});

/** A value for each kind of path parameter: well-formed, naming nothing. */
const fill = (p: string) =>
  p
    .replace('{id}', 'zz_aaaaaaaaaaaaaaaaaaaa')
    .replace('{ref}', 'no-such-machine')
    .replace('{action}', 'start')
    .replace('{key}', '0123456789abcdef0123456789abcdef')
    .replace('{forkId}', 'fkf_aaaaaaaaaaaaaaaaaaaa')
    .replace('{userId}', 'usr_aaaaaaaaaaaaaaaaaaaa')
    .replace('{delivery}', 'whd_aaaaaaaaaaaaaaaaaaaa')
    .replace('{target}', 'no-such-target')
    .replace('{backup}', 'bk-0000000000000-aaaaaaaa')
    .replace('{snapshot}', 'no-such-snapshot')
    .replace('{iso}', 'no-such.iso');

describe('authorization matrix', () => {
  it('has a rule for every published route, and the server enforces each for every kind of caller', async () => {
    const spec = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { 'x-hangar-access'?: Access; 'x-hangar-machine-grant'?: string }>>;
    };
    const published = Object.entries(spec.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ key: `${m} ${p.replace(/^\/api/, '')}`, access: op['x-hangar-access'], grant: op['x-hangar-machine-grant'] })),
    );
    expect(
      published.filter((r) => !(r.key in RULES)).map((r) => r.key),
      'routes without a rule in RULES',
    ).toEqual([]);
    expect(
      Object.keys(RULES).filter((k) => !published.some((r) => r.key === k)),
      'rules for routes that no longer exist',
    ).toEqual([]);
    for (const r of published) expect(r.access, r.key).toBe(RULES[r.key]);

    const wrong: string[] = [];
    let calls = 0;
    for (const { key, grant } of published) {
      const [method, p] = key.split(' ');
      const access = RULES[key];
      for (const c of callers) {
        // Logging in and out change nothing here (tokens), but a login by the anonymous caller is a real attempt: skip it.
        if (key === 'post /auth/login') continue;
        const res = await fetch(`${srv.url}/api${fill(p)}`, {
          method: method.toUpperCase(),
          // Our own Origin, as the CLI sends it: the cross-site check is not what this matrix is about.
          headers: {
            origin: srv.url,
            ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
            ...(method === 'get' ? {} : { 'content-type': 'application/json' }),
          },
          ...(method === 'get' || method === 'delete' ? {} : { body: '{}' }),
        });
        await res.arrayBuffer();
        calls++;
        // A member is told nothing about machines not given to them: 404 where others hear 403.
        const denied = c.role === 'member' && grant ? 404 : 403;
        const expected = access === 'public' ? 'allowed' : access === 'node' || c.role === null ? 401 : hasRole(c.role, access) ? 'allowed' : denied;
        const got = res.status === 401 || res.status === 403 || (denied === 404 && res.status === 404) ? res.status : 'allowed';
        if (got !== expected) wrong.push(`${key} as ${c.name}: expected ${expected}, got ${res.status}`);
        if (res.status >= 500) wrong.push(`${key} as ${c.name}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(calls).toBeGreaterThan(published.length * 7);
  }, 120_000);

  it('refuses sockets without valid credentials, and cross-site sockets with a cookie', async () => {
    for (const nsp of ['/events', '/console'] as const) {
      for (const c of callers.filter((x) => x.role === null)) {
        const s = socket(srv.url, nsp, c.token ? { token: c.token } : {});
        const err = await new Promise<Error | null>((resolve) => {
          s.once('connect', () => resolve(null));
          s.once('connect_error', (e) => resolve(e));
        });
        s.disconnect();
        expect(err?.message, `${nsp} as ${c.name}`).toMatch(/unauthorized/);
      }
    }
    const login = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: srv.url },
      body: JSON.stringify({ username: 'm-viewer', password: 'viewer-password-1' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const cross = socket(srv.url, '/console', { cookie, origin: 'https://evil.example' });
    const err = await new Promise<Error | null>((resolve) => {
      cross.once('connect', () => resolve(null));
      cross.once('connect_error', (e) => resolve(e));
    });
    cross.disconnect();
    expect(err?.message).toMatch(/cross-site/);
  });
});
