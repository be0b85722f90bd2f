import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysOfOperators } from '@/db/repo/ssh-keys';
import { createBody, fakeCore, type FakeCore } from '../testing/fake-core';
import type { Principal } from '../auth';

const ED = [
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKNJ2G7YqGk1e7mY3oWcV0cY5y2b8dSx0n0U1Dq1cTg0',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBtq7aXWm9xk9wH3J5sVt2l9c8wz6J0X5k4pY3q2r1s0',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGz5c0bR0Ff8S2gQ0m6c9x4e3Jw1kq7Yv2n5t8u9A1b0',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd7n2s4K8Wm1pQ9x3c6v5b2n4m7k1j8h5g2f3d6s9a0',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4k8s2d6f9g3h5j7k1l4z8x2c5v9b3n6m1q4w7e2r5t0',
];

describe('who may reach a machine over OpenSSH, and whose keys it lets in', () => {
  let t: FakeCore;
  let vm: string;
  let op: Principal;
  let granted: Principal;
  let watcher: Principal;
  let stranger: Principal;
  let gone: Principal;

  beforeAll(async () => {
    t = await fakeCore();
    vm = (await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-ssh' })))).machineId!;
    op = await t.as('operator', 'op');
    granted = await t.as('member', 'granted');
    watcher = await t.as('member', 'watcher');
    stranger = await t.as('member', 'stranger');
    gone = await t.as('operator', 'gone');
    await t.core.grants.put(t.admin, 'vm-ssh', { username: 'granted', role: 'operator' });
    await t.core.grants.put(t.admin, 'vm-ssh', { username: 'watcher', role: 'viewer' });
    for (const [i, p] of [op, granted, watcher, stranger, gone].entries()) await t.core.sshKeys.add(p, { publicKey: ED[i], name: `k${i}` });
    await t.core.store.db.update(t.core.store.t.users).set({ disabled: true }).where(eq(t.core.store.t.users.id, gone.user.id));
  });
  afterAll(() => t.close());

  it('lets in the keys of operators and of members given the machine to operate, not viewers, strangers or disabled users', async () => {
    const keys = await keysOfOperators(t.core.store, vm);
    expect(keys.map((k) => k.username).sort()).toEqual(['granted', 'op']);
  });

  it('answers as the SSH tab does: 404 for a machine a member was not given, 403 for a viewer grant, the machine for an operator', async () => {
    // The same words for one not given and one missing, each named as asked.
    await expect(t.core.ssh.reachable(stranger, 'vm-ssh')).rejects.toMatchObject({ code: 'not_found', message: 'Machine "vm-ssh" not found.' });
    await expect(t.core.ssh.reachable(stranger, 'no-such')).rejects.toMatchObject({ code: 'not_found', message: 'Machine "no-such" not found.' });
    await expect(t.core.ssh.reachable(watcher, 'vm-ssh')).rejects.toMatchObject({ code: 'forbidden' });
    expect((await t.core.ssh.reachable(granted, 'vm-ssh')).name).toBe('vm-ssh');
    expect((await t.core.ssh.hosts(granted)).map((h) => h.name)).toEqual(['vm-ssh']);
    expect(await t.core.ssh.hosts(stranger)).toEqual([]);
    await t.done(await t.core.machines.act(t.admin, 'vm-ssh', 'stop'));
    await expect(t.core.ssh.reachable(op, 'vm-ssh')).rejects.toMatchObject({ code: 'conflict', message: /stopped: SSH needs a running machine/ });
  });

  it('keeps keys per user: a duplicate is a conflict, another user may add the same key, and only the owner removes it', async () => {
    await expect(t.core.sshKeys.add(op, { publicKey: ED[0] })).rejects.toMatchObject({ code: 'conflict' });
    const theirs = await t.core.sshKeys.add(stranger, { publicKey: ED[0], name: 'shared' });
    await expect(t.core.sshKeys.remove(op, theirs.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await t.core.sshKeys.remove(stranger, theirs.id)).name).toBe('shared');
  });
});
