import type { DriverDescription, Feature } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import { hostHas, no, yes } from '../shared/describe';
import type { DriverRuntime, MachineFacts } from '../types';
import { nspawnRuntime } from './runtime';

/** systemd-nspawn containers: OS or application containers on overlays, NAT, files checkpoints, unit files. */
export function describeNspawn(host: HostInfo | null, runtime?: DriverRuntime): DriverDescription {
  const rt = runtime ? nspawnRuntime(runtime) : null;
  // Containers run on overlays of the image root: no overlayfs, no containers.
  const here = hostHas(host, ['nspawn', 'overlayfs']);
  const nat = hostHas(host, ['nat']);
  const title = 'A container checkpoint saves its files (frozen for the copy), not its memory: a restore or fork boots from them, in about a second.';
  return {
    words: {
      kind: 'Container (nspawn)',
      creating: 'Creating the writable layer',
      starting: 'Starting (nspawn)',
      consoleLog: 'Container output',
      memorySeries: 'in use',
      memoryLimit: 'Its limit',
      memoryNote: null,
      networkNote: null,
    },
    consoles: {
      main: { kind: 'container-pty', label: 'Console', short: 'console' },
      // A login shell through nsenter, not sshd: the same channel, its own name.
      shell: { kind: 'container-shell', label: 'Shell', short: 'shell' },
      shellSubject: 'The shell',
    },
    checkpoint: {
      running: 'filesystem',
      stopped: 'filesystem',
      reason: "Nothing restores a container's memory yet: checkpoints keep its files.",
      label: 'Checkpoint (files)',
      title,
      stoppedLabel: 'Checkpoint (files)',
      stoppedTitle: title,
    },
    fork: yes,
    move: moveOf(here),
    power: yes,
    create: here,
    adopt: no('Containers are made from an image: an existing machine is adopted as an SSH machine.'),
    hotStandby: no('only QEMU VMs keep processes started ahead for forks'),
    archiveExport: { available: true, reason: null },
    unitFile: yes,
    files: yes,
    networks: [
      { mode: 'private', label: 'Private (loopback only)', available: true, reason: null },
      { mode: 'nat', label: 'NAT (own address, port forwards)', ...nat },
      { mode: 'host', label: 'Host network (shares host ports)', available: true, reason: null },
    ],
    portForwards: { available: true, reason: null, protocols: ['tcp'], networks: ['nat'] },
    // sshd in inetd mode inside the container (any network: a private one has no port to reach).
    display: no('Containers have no screen: use the console.'),
    sshd:
      rt && (rt.ssh !== true || (rt.command?.length ?? 0) > 0)
        ? no('This container runs no SSH server (an OCI image or an application container): use hangar exec or its shell.')
        : yes,
    iso: no('Containers boot no installer: ISO installs are for VMs (qemu).'),
    firmwares: [],
    disks: {
      ...yes,
      kind: 'volume',
      buses: [],
      resize: no('A volume is a host directory: it has no size to grow.'),
      // Bound into (and unmounted from) a running container's mount namespace.
      hotplug: yes,
    },
    appContainers: yes,
    // systemd of an OCI image booted on the overlay of its layers, like any root filesystem.
    ociBoot: yes,
    needsRootfs: true,
    // OCI images run as application containers from their unpacked layers (an OCI runtime bundle); imported root filesystems as any tree.
    imageKinds: ['debian-12', 'debian-13', 'rootfs', 'oci'],
    limits: { cpus: true, memory: true, disk: false },
    needs: ['nspawn', 'overlayfs'],
    available: here.available,
    reason: here.reason,
  };
}

export function nspawnFacts(runtime: DriverRuntime): MachineFacts {
  const rt = nspawnRuntime(runtime);
  const command = rt.command && rt.command.length ? rt.command : null;
  return {
    accel: null,
    ssh: rt.ssh === true ? { port: null, user: 'root' } : null,
    network: rt.network ?? null,
    address: rt.address ?? null,
    command,
  };
}

/**
 * Moves to another node (move.ts): its directories copied (an OCI image's layers copied to that node's
 * store when it lacks them); a running container by restart (frozen, copied, started there: its processes start again).
 */
function moveOf(here: Feature): DriverDescription['move'] {
  return { ...here, live: here, running: 'restart' };
}
