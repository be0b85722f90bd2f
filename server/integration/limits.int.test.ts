import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { noLimits } from '@/lib/contracts/limits';
import { run } from '@/server/drivers/exec';
import { jobDone, serverWithBusybox, tearDown, type RunningServer } from './harness';

/** Limits per user on the real server: the 409 envelope naming the limit, the race at create, the CLI. */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let home: string;

beforeAll(async () => {
  ({ srv, api, token } = await serverWithBusybox());
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-limits-'));
}, 300_000);
afterAll(async () => {
  await tearDown(srv, api);
  fs.rmSync(home, { recursive: true, force: true });
}, 120_000);

const cli = (args: string[]) =>
  run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 30_000, env: { XDG_CONFIG_HOME: home, HANGAR_URL: srv.url, HANGAR_TOKEN: token } });

describe('limits per user', () => {
  it('20 creates at once against a limit of 5: 5 machines, 15 409s naming the limit; shown to the user and the admin', async () => {
    const me = (await api.auth.me()).user;
    const roleLimits = (await api.settings.get()).roleLimits;
    await api.settings.update({ roleLimits: { ...roleLimits, admin: { ...noLimits, machines: 5 } } });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => api.machines.create({ name: `lim-${i}`, image: 'busybox', memoryMib: 64, diskGib: 1, start: false })),
    );
    const jobs = results
      .filter((r) => r.status === 'fulfilled')
      .map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<ApiClient['machines']['create']>>>).value);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(jobs).toHaveLength(5);
    for (const r of refused) {
      expect(r.reason).toMatchObject({ status: 409, code: 'conflict', issues: [{ path: 'limits.machines' }] });
      expect(r.reason.message).toContain('Limit reached: machines');
    }
    for (const j of jobs) expect((await jobDone(api, j)).error).toBeNull();
    expect((await api.machines.list()).items.filter((m) => m.name.startsWith('lim-'))).toHaveLength(5);
    const mine = await api.limits.mine();
    expect(mine).toMatchObject({ userId: me.id, limits: { machines: 5 }, usage: { machines: 5, memoryMib: 320, diskGib: 5 } });
    expect((await api.limits.list()).items.find((u) => u.userId === me.id)?.usage.machines).toBe(5);

    // The CLI shows them, and an admin's own limit for a user wins over the role's.
    const shown = await cli(['limits']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/machines\s+5 of 5\s+FULL/);
    const set = await cli(['limits', 'admin', '--machines', '6', '--memory', 'none', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ overrides: { machines: 6, memoryMib: null }, limits: { machines: 6, memoryMib: null } });
    expect((await jobDone(api, await api.machines.create({ name: 'lim-extra', image: 'busybox', memoryMib: 64, diskGib: 1, start: false }))).error).toBeNull();
    await expect(api.machines.create({ name: 'lim-over', image: 'busybox', memoryMib: 64, diskGib: 1, start: false })).rejects.toMatchObject({ status: 409 });
    // Bad values are 400s, not stored.
    await expect(api.limits.put(me.id, { overrides: { machines: -1 } })).rejects.toMatchObject({ status: 400 });
    await expect(api.limits.put(me.id, { overrides: { cpus: 2 } as never })).rejects.toMatchObject({ status: 400 });
    await expect(api.limits.put(`usr_${'a'.repeat(20)}`, { overrides: {} })).rejects.toMatchObject({ status: 404 });
    expect((await cli(['limits', 'admin', '--reset'])).code).toBe(0);
    await api.settings.update({ roleLimits });
  }, 240_000);

  it('forks of a snapshot, 6 at once against room for 2, make at most 2; a chain build at the limit is refused; each 409 names the limit', async () => {
    const roleLimits = (await api.settings.get()).roleLimits;
    // Its own source: the machines above have 64 MiB, too little for a fork to boot busybox.
    await api.settings.update({ roleLimits: { ...roleLimits, admin: noLimits } });
    expect((await jobDone(api, await api.machines.create({ name: 'lim-src', image: 'busybox', memoryMib: 256, diskGib: 1, start: false }))).error).toBeNull();
    const held = (await api.limits.mine()).usage.machines;
    await api.settings.update({ roleLimits: { ...roleLimits, admin: { ...noLimits, machines: held + 2 } } });
    try {
      const source = { name: 'lim-src' };
      const snapId = ((await jobDone(api, await api.snapshots.checkpoint(source.name, 'lim-base'))).result as { snapshot: string }).snapshot;
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => api.snapshots.fork(snapId, { names: [`limfork-${i}`] })));
      const started = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      for (const r of refused) expect(r.reason).toMatchObject({ status: 409, issues: [{ path: 'limits.machines' }] });
      for (const r of started)
        expect((await jobDone(api, (r as PromiseFulfilledResult<Awaited<ReturnType<ApiClient['snapshots']['fork']>>>).value)).error).toBeNull();
      const forks = (await api.machines.list()).items.filter((m) => m.name.startsWith('limfork-'));
      expect(forks.length).toBeLessThanOrEqual(2);
      expect(refused.length).toBeGreaterThanOrEqual(4);
      expect((await api.limits.mine()).usage.machines).toBeLessThanOrEqual(held + 2);
      // Full now (or made full): a chain build needs a machine and is refused before anything runs.
      await api.settings.update({ roleLimits: { ...roleLimits, admin: { ...noLimits, machines: (await api.limits.mine()).usage.machines } } });
      await expect(api.steps.build({ chain: 'busybox + exec -- true', name: 'lim-chain' })).rejects.toMatchObject({
        status: 409,
        issues: [{ path: 'limits.machines' }],
      });
    } finally {
      await api.settings.update({ roleLimits });
    }
  }, 240_000);

  it('a member cannot change limits', async () => {
    const u = await api.users.create({ username: 'lim-member', role: 'member', password: 'member-password-1' });
    const res = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: srv.url },
      body: JSON.stringify({ username: 'lim-member', password: 'member-password-1' }),
    });
    const cookie = res.headers.get('set-cookie')!.split(';')[0];
    const put = await fetch(`${srv.url}/api/users/${u.user.id}/limits`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: srv.url, cookie },
      body: JSON.stringify({ overrides: { machines: 100 } }),
    });
    expect(put.status).toBe(403);
    const mine = await fetch(`${srv.url}/api/auth/limits`, { headers: { cookie } });
    expect(await mine.json()).toMatchObject({ username: 'lim-member', role: 'member', usage: { machines: 0 } });
  });
});
