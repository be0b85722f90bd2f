import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CreateMachineBody } from '@/lib/contracts/machines';
import { fakeHost } from '@/server/drivers/fake/registry';
import { BadRequestError, ConflictError, UnavailableError } from './errors';
import { createBody, fakeCore, type FakeCore } from './testing/fake-core';

let t: FakeCore;
beforeEach(async () => {
  t = await fakeCore();
});
afterEach(async () => {
  await t.close();
});

const logOf = async (jobId: string) => (await t.core.jobRunner.logs(jobId, -1)).map((l) => l.line);

describe('MachineService on the fake driver', () => {
  it('creates and boots a machine: the driver creates then starts it, the job says it in the driver words, the row keeps its record', async () => {
    const job = await t.core.machines.create(t.admin, createBody({ name: 'vm-1' }));
    await t.done(job);
    const m = await t.core.machines.get(t.admin, 'vm-1');
    expect(m).toMatchObject({ state: 'running', driver: 'qemu', capabilities: { words: { kind: 'VM (fake)' } } });
    const fake = t.drivers.fake('qemu');
    expect(fake.calls.map((c) => c.method)).toEqual(['create', 'start']);
    expect(fake.callsOf('create')[0].args).toMatchObject({ image: 'busybox' });
    expect(await logOf(job.id)).toEqual(expect.arrayContaining(['fake: created on image busybox', 'fake: started']));
    expect((await t.core.machines.spec(m.id)).spec.runtime).toMatchObject({ pid: 4242, disk: expect.stringContaining('-fake') });
  });

  it('creates without starting when asked, and a start later boots it', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-2', start: false })));
    expect((await t.core.machines.get(t.admin, 'vm-2')).state).toBe('stopped');
    expect(t.drivers.fake('qemu').callsOf('start')).toHaveLength(0);
    await t.done(await t.core.machines.act(t.admin, 'vm-2', 'start'));
    expect((await t.core.machines.get(t.admin, 'vm-2')).state).toBe('running');
  });

  it('one operation per machine: a second action while a start runs is refused with what holds it', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-3', start: false })));
    let release!: () => void;
    t.drivers.fake('qemu').startGate = new Promise((r) => (release = r));
    const start = await t.core.machines.act(t.admin, 'vm-3', 'start');
    await vi.waitFor(() => expect(t.drivers.fake('qemu').callsOf('start')).toHaveLength(1));
    await expect(t.core.machines.act(t.admin, 'vm-3', 'stop')).rejects.toThrow(/busy \(start\)/);
    await expect(t.core.snapshots.checkpoint(t.admin, 'vm-3')).rejects.toBeInstanceOf(ConflictError);
    release();
    await t.done(start);
    expect(t.core.machines.locks.has((await t.core.machines.get(t.admin, 'vm-3')).id)).toBe(false);
  });

  it('stops (the record loses its pid), pauses and resumes; an action the state does not allow is a conflict', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-4' })));
    await expect(t.core.machines.act(t.admin, 'vm-4', 'start')).rejects.toThrow(/Cannot start vm-4: it is running/);
    await t.done(await t.core.machines.act(t.admin, 'vm-4', 'pause'));
    expect((await t.core.machines.get(t.admin, 'vm-4')).state).toBe('paused');
    await t.done(await t.core.machines.act(t.admin, 'vm-4', 'resume'));
    await t.done(await t.core.machines.act(t.admin, 'vm-4', 'stop', { force: true, timeoutS: 5 }));
    const { row, spec } = await t.core.machines.spec((await t.core.machines.get(t.admin, 'vm-4')).id);
    expect(row).toMatchObject({ state: 'stopped', stateReason: 'Stopped hard (no clean shutdown).' });
    expect(spec.runtime.pid).toBeNull();
    expect(t.drivers.fake('qemu').callsOf('stop')[0].args).toEqual({ force: true, timeoutMs: 5000 });
  });

  it('a start that fails leaves the machine failed, with the driver’s reason', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-5', start: false })));
    t.drivers.fake('qemu').failNext('start', new Error('no accelerator today'));
    await expect(t.done(await t.core.machines.act(t.admin, 'vm-5', 'start'))).rejects.toThrow(/no accelerator today/);
    expect(await t.core.machines.get(t.admin, 'vm-5')).toMatchObject({ state: 'failed', stateReason: 'no accelerator today' });
  });

  it('refuses what the driver description rules out: a command on a VM, NAT where there is none, forwards without NAT, containers without a root', async () => {
    const bad = async (b: CreateMachineBody, path: string) => {
      const err = await t.core.machines.create(t.admin, b).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).issues?.[0].path).toBe(path);
    };
    await bad(createBody({ name: 'a', command: ['true'] }), 'command');
    await bad(createBody({ name: 'b', driver: 'podman', image: 'debian-12', network: 'nat' }), 'network');
    await bad(createBody({ name: 'c', driver: 'nspawn', image: 'debian-12', ports: [{ host: 18080, guest: 80, protocol: 'tcp' }] }), 'ports');
    await bad(createBody({ name: 'd', driver: 'nspawn', image: 'debian-12', network: 'nat', ports: [{ host: 18080, guest: 80, protocol: 'udp' }] }), 'ports');
    await bad(createBody({ name: 'e', driver: 'nspawn', image: 'busybox' }), 'image');
    // --boot and --entrypoint: OCI images only, boot on drivers whose ociBoot is available, never with a command.
    await bad(createBody({ name: 'g', boot: true }), 'boot');
    await bad(createBody({ name: 'h', driver: 'nspawn', image: 'debian-12', boot: true, command: ['true'] }), 'boot');
    await bad(createBody({ name: 'i', driver: 'nspawn', image: 'debian-12', boot: true }), 'boot');
    await bad(createBody({ name: 'j', driver: 'nspawn', image: 'debian-12', entrypoint: ['/bin/sh'] }), 'entrypoint');
    // A VM has its own network: the field does not apply to it.
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'f', network: 'nat' })));
    expect(t.drivers.fake('nspawn').calls).toEqual([]);
  });

  it('a driver (or network) this host lacks is a 503 with the probe’s reason, before any job', async () => {
    await t.close();
    t = await fakeCore({ host: fakeHost({ podman: 'podman is not installed', nat: 'iptables cannot edit the nat table' }) });
    await expect(t.core.machines.create(t.admin, createBody({ name: 'p', driver: 'podman', image: 'debian-12' }))).rejects.toThrow(
      /podman driver is unavailable on this host: podman is not installed/,
    );
    const err = await t.core.machines.create(t.admin, createBody({ name: 'n', driver: 'nspawn', image: 'debian-12', network: 'nat' })).catch((e) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/iptables/);
    expect((await t.core.machines.driverList()).find((d) => d.kind === 'podman')).toMatchObject({ available: false, reason: 'podman is not installed' });
  });

  it('destroy removes the machine through its driver, closes its consoles and tells the listeners', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-6' })));
    const m = await t.core.machines.get(t.admin, 'vm-6');
    const removed: string[] = [];
    t.core.bus.subscribe('machine:removed', ({ id }) => removed.push(id));
    const gone = vi.fn();
    const before = t.core.machines.onGone;
    t.core.machines.onGone = (id) => (gone(id), before(id));
    await t.done(await t.core.machines.destroy(t.admin, 'vm-6'));
    expect(t.drivers.fake('qemu').callsOf('destroy')).toHaveLength(1);
    expect(gone).toHaveBeenCalledWith(m.id);
    expect(removed).toEqual([m.id]);
    await expect(t.core.machines.get(t.admin, 'vm-6')).rejects.toThrow(/not found/i);
  });

  it('a start reads the machine once (the act), then goes on from what its writes return', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-7', start: false })));
    const reads = vi.spyOn(t.core.machines, 'row');
    await t.done(await t.core.machines.act(t.admin, 'vm-7', 'start'));
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockClear();
    await t.done(await t.core.machines.act(t.admin, 'vm-7', 'restart'));
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('the unit file comes from the driver that makes one; others say why not', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'ct-1', driver: 'nspawn', image: 'debian-12', start: false })));
    expect(await t.core.machines.unitFile(t.admin, 'ct-1')).toEqual({ name: 'hangar-ct-1.service', unit: expect.stringContaining('# ct-1') });
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-8', start: false })));
    await expect(t.core.machines.unitFile(t.admin, 'vm-8')).rejects.toThrow(/fake VMs have no unit file/);
  });

  it('the monitor marks a machine whose process went away as stopped, and leaves one in an operation alone', async () => {
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-9' })));
    await t.done(await t.core.machines.create(t.admin, createBody({ name: 'vm-10' })));
    const [a, b] = [await t.core.machines.get(t.admin, 'vm-9'), await t.core.machines.get(t.admin, 'vm-10')];
    const fake = t.drivers.fake('qemu');
    // Both processes die; vm-10 is in an operation meanwhile.
    await fake.stop((await t.core.machines.spec(a.id)).spec, { force: true, timeoutMs: 0 });
    await fake.stop((await t.core.machines.spec(b.id)).spec, { force: true, timeoutMs: 0 });
    t.core.machines.locks.lock(b.id, 'checkpointing');
    await (t.core.machines as unknown as { monitor: { check(): Promise<void> } }).monitor.check();
    expect(await t.core.machines.get(t.admin, 'vm-9')).toMatchObject({ state: 'stopped', stateReason: 'The machine powered off or its process exited.' });
    expect((await t.core.machines.get(t.admin, 'vm-10')).state).toBe('running');
  });
});
