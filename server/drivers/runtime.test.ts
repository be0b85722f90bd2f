import { describe, expect, it } from 'vitest';
import { fakeHost } from './fake/registry';
import { describeNspawn, nspawnFacts } from './nspawn/describe';
import { nspawnRuntime } from './nspawn/runtime';
import { describePodman } from './podman/describe';
import { podmanRuntime } from './podman/runtime';
import { describeQemu, qemuFacts } from './qemu/describe';
import { diskOf, qemuRuntime } from './qemu/runtime';

const spec = (runtime: Record<string, unknown>) => ({
  id: 'mch_x',
  name: 'm',
  dir: '/data/machines/mch_x',
  layers: '/data/layers',
  cpus: 1,
  memoryMib: 64,
  diskGib: 2,
  ports: [],
  runtime,
});

describe("each driver's runtime record, parsed by its own schema", () => {
  it('qemu: a record from before disk layers (no disk, no RAM file) still parses, and falls back to the machine dir', () => {
    const old = { pid: 1234, mac: '52:54:00:aa:bb:cc', accel: 'tcg', serialFrom: 0, sshPort: null, ssh: false };
    expect(qemuRuntime(old)).toMatchObject(old);
    expect(diskOf(spec(old))).toBe('/data/machines/mch_x/disk.qcow2');
    expect(qemuFacts(old)).toEqual({ accel: 'tcg', ssh: null, network: null, address: null, command: null, cdrom: null, firmware: 'bios' });
    // Fields it does not know are kept for the next write.
    expect(qemuRuntime({ limitsNote: null, disk: '/data/layers/a.qcow2' })).toMatchObject({ limitsNote: null, disk: '/data/layers/a.qcow2' });
  });

  it('qemu: a damaged record fails with what is wrong, not deep in the driver', () => {
    expect(() => qemuRuntime({ pid: 'twelve', accel: 'hvf' })).toThrow(/qemu record of this machine is damaged \(pid: .*; accel: .*\)/);
  });

  it('nspawn: a container from before snapshots and NAT (no lowers, no network) parses as private, on the image root alone', () => {
    const old = { rootfs: '/data/images/debian-12/rootfs', ssh: true, pid: 77, serialFrom: 12 };
    expect(nspawnRuntime(old)).toMatchObject(old);
    expect(nspawnFacts(old)).toEqual({ accel: null, ssh: { port: null, user: 'root' }, network: null, address: null, command: null });
    expect(() => nspawnRuntime({ network: 'bridge' })).toThrow(/nspawn record of this machine is damaged \(network: /);
    expect(() => nspawnRuntime({ lowers: 'not a list' })).toThrow(/lowers/);
  });

  it('podman: the imported image and the network are read; NAT was never a podman network', () => {
    expect(podmanRuntime({ image: 'localhost/hangar-debian-12:abc', network: 'host', ssh: false, command: ['true'] })).toMatchObject({ network: 'host' });
    expect(() => podmanRuntime({ network: 'nat' })).toThrow(/podman record of this machine is damaged/);
  });
});

describe('driver descriptions', () => {
  it("qemu says its accelerator in its words: the machine's, and the one a start would take on this host", () => {
    expect(describeQemu(fakeHost(), { accel: 'kvm' }).words.kind).toBe('VM (QEMU, KVM)');
    expect(describeQemu(fakeHost({ kvm: 'hangs' })).words).toMatchObject({ kind: 'VM (QEMU)', starting: 'Starting (qemu, tcg)' });
    expect(describeQemu(fakeHost({ qemu: 'qemu-system-x86_64 is not installed' }))).toMatchObject({
      available: false,
      reason: 'qemu-system-x86_64 is not installed',
    });
  });

  it("qemu moves VMs with extra disks, ISO installs and disk images, but not one with an ISO in its drive (the ISO is this node's)", () => {
    expect(describeQemu(fakeHost(), { installer: true, cdrom: null, firmware: 'uefi' }).move).toMatchObject({ available: true, live: { available: true } });
    expect(describeQemu(fakeHost(), { ownKernel: true, seed: '/d/seed.iso' }).move.available).toBe(true);
    const disks = [{ name: 'data', file: '/l/x.qcow2', sizeGib: 1, bus: 'virtio-blk', attached: true, slot: 0 }];
    expect(describeQemu(fakeHost(), { disks }).move.available).toBe(true);
    expect(describeQemu(fakeHost(), { installer: true, cdrom: { name: 'debian.iso', path: '/i/debian.iso' } }).move).toMatchObject({
      available: false,
      reason: 'eject the CD-ROM first: its ISO "debian.iso" is in this node\'s library',
      live: { available: false },
    });
  });

  it('nspawn offers NAT only where the host can, and needs overlayfs', () => {
    const here = describeNspawn(fakeHost({ nat: 'iptables cannot edit the nat table' }));
    expect(here.networks.find((n) => n.mode === 'nat')).toMatchObject({ available: false, reason: 'iptables cannot edit the nat table' });
    expect(describeNspawn(fakeHost({ overlayfs: 'no overlay' }))).toMatchObject({ available: false, reason: 'no overlay', needs: ['nspawn', 'overlayfs'] });
  });

  it('podman checkpoints files, and says why not live: the host probe’s CRIU reason', () => {
    const d = describePodman(fakeHost({ criu: 'criu check fails on this kernel' }));
    expect(d.checkpoint).toMatchObject({ running: 'filesystem', reason: 'criu check fails on this kernel' });
    expect(d.networks.map((n) => n.mode)).toEqual(['private', 'host']);
    expect(d.portForwards.available).toBe(false);
  });
});
