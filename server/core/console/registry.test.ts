import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Machine } from '@/lib/contracts/machines';
import type { Principal } from '../auth';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { createBody, fakeCore, type FakeCore } from '../testing/fake-core';
import { MachineNotRunningError } from './registry';
import type { ViewerSink } from './session';

let t: FakeCore;
let vm: Machine;
beforeEach(async () => {
  t = await fakeCore();
  await t.done(await t.core.machines.create(t.admin, createBody({ name: 'con' })));
  vm = await t.core.machines.get(t.admin, 'con');
});
afterEach(async () => {
  await t.close();
});

/** A viewer that keeps what it is sent. */
function sink(id: string) {
  const out: string[] = [];
  const s: ViewerSink & { out: string[]; closedWith: string | null } = {
    id,
    out,
    closedWith: null,
    output: (_offset, data, ack) => (out.push(data), ack()),
    exit: () => undefined,
    viewers: () => undefined,
    closed: (reason) => (s.closedWith = reason),
  };
  return s;
}

const attach = (p: Principal, channel: 'serial' | 'ssh' = 'serial', mode: 'interactive' | 'readonly' = 'interactive', sessionId = 'tab-1') =>
  t.core.consoles.attach(p, sink(`${p.user.id}:${sessionId}`), { sessionId, target: { kind: 'machine', machineId: vm.id, channel }, mode, cols: 80, rows: 24 });

describe('ConsoleRegistry on the fake driver', () => {
  it('an operator types into the serial console its driver opened; what the guest prints reaches every viewer', async () => {
    const op = await t.as('operator');
    const a = await attach(op);
    expect(a.mode).toBe('interactive');
    const con = t.drivers.fake('qemu').consoles.get(vm.id)!;
    a.session.input(`${op.user.id}:tab-1`, 'uname\r');
    expect(con.written).toEqual(['uname\r']);
    const viewer = await t.as('viewer');
    const s2 = sink('second');
    const b = await t.core.consoles.attach(viewer, s2, {
      sessionId: 'tab-2',
      target: { kind: 'machine', machineId: vm.id, channel: 'serial' },
      mode: 'interactive',
      cols: 80,
      rows: 24,
    });
    expect(b.session).toBe(a.session);
    con.emit('Linux\r\n');
    await vi.waitFor(() => expect(s2.out.join('')).toContain('Linux'));
  });

  it('a viewer gets the console read-only whatever it asks, and its keys go nowhere', async () => {
    const viewer = await t.as('viewer');
    const a = await attach(viewer, 'serial', 'interactive');
    expect(a.mode).toBe('readonly');
    a.session.input(`${viewer.user.id}:tab-1`, 'rm -rf /\r');
    expect(t.drivers.fake('qemu').consoles.get(vm.id)!.written).toEqual([]);
  });

  it('a member without a grant hears "not found"; with a viewer grant it watches, with an operator grant it types', async () => {
    const member = await t.as('member', 'mem');
    await expect(attach(member)).rejects.toBeInstanceOf(NotFoundError);
    await t.core.grants.put(t.admin, vm.id, { username: 'mem', role: 'viewer' });
    expect((await attach(member, 'serial', 'interactive', 'tab-a')).mode).toBe('readonly');
    await t.core.grants.put(t.admin, vm.id, { username: 'mem', role: 'operator' });
    expect((await attach(member, 'serial', 'interactive', 'tab-b')).mode).toBe('interactive');
  });

  it('the SSH shell needs a machine with sshd, the operator role, and a running machine', async () => {
    // Its image has no sshd (the busybox image): no shell to open.
    await expect(attach(t.admin, 'ssh')).rejects.toThrow(/has no SSH server/);
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'deb', image: 'debian-12' })));
    const deb = await t.core.machines.get(t.admin, 'deb');
    const shell = (p: Principal) =>
      t.core.consoles.attach(p, sink('s'), {
        sessionId: 'sh',
        target: { kind: 'machine', machineId: deb.id, channel: 'ssh' },
        mode: 'interactive',
        cols: 80,
        rows: 24,
      });
    await expect(shell(await t.as('viewer'))).rejects.toBeInstanceOf(ForbiddenError);
    expect((await shell(t.admin)).mode).toBe('interactive');
    expect(
      t.drivers
        .fake('qemu')
        .callsOf('openShell')
        .map((c) => c.machine),
    ).toEqual([deb.id]);
    await t.done(await t.core.machines.act(t.admin, vm.id, 'stop', { force: true, timeoutS: 1 }));
    await expect(attach(t.admin, 'serial')).rejects.toBeInstanceOf(ConflictError);
  });

  it('one attach reads the machine once and the caller’s grant once', async () => {
    const member = await t.as('member', 'mem2');
    await t.core.grants.put(t.admin, vm.id, { username: 'mem2', role: 'operator' });
    const rows = vi.spyOn(t.core.machines, 'row');
    const access = vi.spyOn(t.core.grants, 'accessTo');
    await attach(member);
    expect(rows).toHaveBeenCalledTimes(1);
    expect(access).toHaveBeenCalledTimes(1);
  });

  it('a machine going down closes its sessions; the next attach opens its new console', async () => {
    const a = await attach(t.admin);
    const viewerSink = sink('watch');
    await t.core.consoles.attach(t.admin, viewerSink, {
      sessionId: 'w',
      target: { kind: 'machine', machineId: vm.id, channel: 'serial' },
      mode: 'readonly',
      cols: 80,
      rows: 24,
    });
    await t.done(await t.core.machines.act(t.admin, vm.id, 'restart'));
    expect(viewerSink.closedWith).toBe('The machine stopped.');
    const b = await attach(t.admin, 'serial', 'interactive', 'tab-2');
    expect(b.session).not.toBe(a.session);
    expect(t.drivers.fake('qemu').callsOf('openConsole')).toHaveLength(2);
  });

  it('a serial session opened between two processes (it ended at once) is closed once the machine runs, so its viewers attach again', async () => {
    const s = sink('between');
    const a = await t.core.consoles.attach(t.admin, s, {
      sessionId: 'r',
      target: { kind: 'machine', machineId: vm.id, channel: 'serial' },
      mode: 'interactive',
      cols: 80,
      rows: 24,
    });
    // The process it reads ends (as a restore's old process does): the session is exited and stays open.
    t.drivers.fake('qemu').consoles.get(vm.id)!.exit(0);
    await vi.waitFor(() => expect(a.session.exited).toBe(true));
    expect(s.closedWith).toBeNull();
    // A machine update that is not running changes nothing; running again closes it.
    t.core.bus.publish('machine:update', { ...vm, state: 'stopped' });
    expect(s.closedWith).toBeNull();
    t.core.bus.publish('machine:update', { ...vm, state: 'running' });
    expect(s.closedWith).toBe('The machine is running again.');
    const b = await attach(t.admin, 'serial', 'interactive', 'r');
    expect(b.session).not.toBe(a.session);
    expect(b.session.exited).toBe(false);
  });

  it('a viewer refused a stopped machine is told once when it runs; one that stopped waiting, or a removed machine, is not', async () => {
    await t.done(await t.core.machines.act(t.admin, vm.id, 'stop'));
    // The refusal says why and which machine, so the socket knows to wait for it (any other conflict is not waited on).
    await expect(attach(t.admin)).rejects.toBeInstanceOf(MachineNotRunningError);
    await expect(attach(t.admin)).rejects.toMatchObject({ machineId: vm.id, code: 'conflict' });
    const told: string[] = [];
    t.core.consoles.whenRunning(vm.id, () => told.push('a'));
    const offB = t.core.consoles.whenRunning(vm.id, () => told.push('b'));
    t.core.consoles.whenRunning('mch_gone', () => told.push('gone'));
    offB();
    t.core.consoles.forgetMachine('mch_gone');
    t.core.bus.publish('machine:update', { ...vm, state: 'stopped' });
    expect(told).toEqual([]);
    await t.done(await t.core.machines.act(t.admin, vm.id, 'start'));
    expect(told).toEqual(['a']);
    // Once: the next run tells nobody.
    t.core.bus.publish('machine:update', { ...vm, state: 'running' });
    t.core.consoles.machineRunning('mch_gone');
    expect(told).toEqual(['a']);
    expect((await attach(t.admin)).session.exited).toBe(false);
  });
  it('the host shell is for admins only, when turned on, and comes from the registry', async () => {
    const op = await t.as('operator');
    const host = (p: Principal) =>
      t.core.consoles.attach(p, sink('h'), { sessionId: 'host-1', target: { kind: 'host-shell' }, mode: 'interactive', cols: 80, rows: 24 });
    await expect(host(op)).rejects.toBeInstanceOf(NotFoundError);
    await t.core.settings.update({ consoleHostShell: false });
    await expect(host(t.admin)).rejects.toBeInstanceOf(ForbiddenError);
    await t.core.settings.update({ consoleHostShell: true });
    await host(t.admin);
    expect(t.drivers.shells).toHaveLength(1);
  });

  it("marks a checkpoint in the machine's recorded console, through the bus (the snapshot code knows no consoles)", async () => {
    await t.core.machines.patch(vm.id, { recordConsole: true });
    const a = await attach(t.admin);
    expect(a.session.recording).toBe(true);
    const job = await t.done(await t.core.snapshots.checkpoint(t.admin, vm.id, 'c1'));
    const snapshot = (job.result as { snapshot: string }).snapshot;
    await vi.waitFor(async () => {
      const [rec] = t.core.recordings.list(vm.id);
      expect(await t.core.recordings.markers(vm.id, rec.id)).toEqual([{ t: expect.any(Number), kind: 'checkpoint', label: 'c1', snapshotId: snapshot }]);
    });
  });

  it("a restore's marker (carried) opens the machine's next recorded serial session, once", async () => {
    await t.core.machines.patch(vm.id, { recordConsole: true });
    // No session open at the restore (its process went): the marker waits for the next one.
    t.core.consoles.markMachine(vm.id, 'restore · c1 · snp_aaaaaaaaaaaaaaaaaaaa', { carry: true });
    const a = await attach(t.admin);
    expect(a.session.recording).toBe(true);
    await vi.waitFor(async () => {
      const [rec] = t.core.recordings.list(vm.id);
      expect(await t.core.recordings.markers(vm.id, rec.id)).toEqual([
        { t: expect.any(Number), kind: 'restore', label: 'c1', snapshotId: 'snp_aaaaaaaaaaaaaaaaaaaa' },
      ]);
    });
    // Taken: a second viewer of the same session adds nothing.
    await attach(t.admin, 'serial', 'interactive', 'tab-2');
    const [rec] = t.core.recordings.list(vm.id);
    expect(await t.core.recordings.markers(vm.id, rec.id)).toHaveLength(1);
  });
});
