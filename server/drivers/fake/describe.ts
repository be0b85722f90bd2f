import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import type { DriverKind } from '@/lib/contracts/machines';
import { hostHas, noDisks } from '../shared/describe';

/** A description like a real driver's of this kind, for tests (availability from the host given); `over` changes any part of it. */
export function fakeDescription(kind: DriverKind, host: HostInfo | null, over: Partial<DriverDescription> = {}): DriverDescription {
  const vm = kind === 'qemu';
  const needs = kind === 'ssh' ? [] : [kind];
  const here = hostHas(host, needs);
  const nat = hostHas(host, ['nat']);
  const no = (reason: string) => ({ available: false, reason });
  const yes = { available: true, reason: null };
  return {
    words: {
      kind: vm ? 'VM (fake)' : `Container (fake ${kind})`,
      creating: 'Creating (fake)',
      starting: `Starting (fake ${kind})`,
      consoleLog: 'Fake console',
      memorySeries: 'in use',
      memoryLimit: 'Its limit',
      memoryNote: null,
      networkNote: null,
    },
    consoles: {
      main: { kind: vm ? 'serial' : 'container-pty', label: vm ? 'Serial console' : 'Console', short: vm ? 'serial' : 'console' },
      shell: { kind: vm ? 'ssh-shell' : 'container-shell', label: 'Shell', short: 'shell' },
      shellSubject: 'The shell',
    },
    checkpoint: {
      running: vm ? 'live' : 'filesystem',
      stopped: vm ? 'disk' : 'filesystem',
      reason: vm ? null : 'fake containers keep files only',
      label: 'Checkpoint',
      title: 'fake',
      stoppedLabel: 'Checkpoint (stopped)',
      stoppedTitle: 'fake',
    },
    fork: yes,
    move: { ...no('fake machines stay where they are'), live: no('fake machines stay where they are'), running: 'memory' },
    power: yes,
    create: here,
    adopt: no('fake machines are made, not adopted'),
    hotStandby: vm ? yes : no('only VMs keep processes started ahead for forks'),
    archiveExport: vm ? yes : no('fake containers do not export'),
    unitFile: vm ? no('fake VMs have no unit file') : yes,
    files: no('fake machines hold no files'),
    networks: vm
      ? []
      : [
          { mode: 'private', label: 'Private', available: true, reason: null },
          ...(kind === 'nspawn' ? [{ mode: 'nat' as const, label: 'NAT', ...nat }] : []),
          { mode: 'host', label: 'Host', available: true, reason: null },
        ],
    portForwards: vm
      ? { available: true, reason: null, protocols: ['tcp', 'udp'], networks: [] }
      : { available: true, reason: null, protocols: ['tcp'], networks: ['nat'] },
    sshd: kind === 'podman' ? no('No SSH server (fake podman).') : yes,
    display: vm ? no('Fake VMs draw no screen.') : no('Containers have no screen: use the console.'),
    iso: no(vm ? 'Fake VMs boot no ISO.' : 'ISO installs are for VMs.'),
    firmwares: vm ? ['bios'] : [],
    disks: noDisks('Fake machines have no extra disks.'),
    appContainers: vm ? no('A command needs a container driver.') : yes,
    ociBoot: vm ? no('VMs boot no OCI images.') : yes,
    needsRootfs: !vm,
    imageKinds: vm ? ['busybox', 'debian-12', 'debian-13'] : ['debian-12', 'debian-13', 'rootfs', 'oci'],
    limits: { cpus: true, memory: true, disk: vm },
    needs,
    available: here.available,
    reason: here.reason,
    ...over,
  };
}
