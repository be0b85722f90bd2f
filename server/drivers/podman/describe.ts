import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import { capOf, hostHas, no, yes } from '../shared/describe';
import type { DriverRuntime, MachineFacts } from '../types';

import { podmanRuntime } from './runtime';

/** podman containers from Hangar-built roots or OCI images (podman's own pull): a shell (or one command) on the holder's pty, commit checkpoints. */
export function describePodman(host: HostInfo | null): DriverDescription {
  const here = hostHas(host, ['podman']);
  const criu = capOf(host, 'criu');
  // Live checkpoints would need CRIU; Hangar commits the files either way for now.
  const why = criu && !criu.available ? criu.reason : 'Live podman checkpoints (CRIU) are not implemented yet.';
  const title =
    'podman commit saves the files (the container paused meanwhile); memory is not saved: live ' +
    'checkpoints need CRIU, which this host cannot use (Settings says why).';
  return {
    words: {
      kind: 'Container (podman)',
      creating: 'Creating the writable layer',
      starting: 'Starting (podman)',
      consoleLog: 'Container output',
      memorySeries: 'in use',
      memoryLimit: 'Its limit',
      memoryNote: null,
      networkNote: null,
    },
    consoles: {
      main: { kind: 'container-pty', label: 'Console', short: 'console' },
      // The console is the container's shell (or its command): no separate shell channel.
      shell: null,
      shellSubject: 'The shell',
    },
    checkpoint: {
      running: 'filesystem',
      stopped: 'filesystem',
      reason: why,
      label: 'Checkpoint (files)',
      title,
      stoppedLabel: 'Checkpoint (files)',
      stoppedTitle: title,
    },
    fork: yes,
    // Moves: its image saved and loaded on the other node; a running one by restart (paused, committed, started there).
    move: { ...here, live: here, running: 'restart' },
    power: yes,
    create: here,
    adopt: no('Containers are made from an image: an existing machine is adopted as an SSH machine.'),
    hotStandby: no('only QEMU VMs keep processes started ahead for forks'),
    archiveExport: yes,
    unitFile: no('only nspawn containers export as a unit file'),
    files: yes,
    networks: [
      { mode: 'private', label: 'Private (loopback only)', available: true, reason: null },
      { mode: 'host', label: 'Host network (shares host ports)', available: true, reason: null },
    ],
    portForwards: {
      available: false,
      reason: 'Port forwards of a container need its own address: network "nat", which podman containers do not have here.',
      protocols: ['tcp'],
      networks: ['nat'],
    },
    display: no('Containers have no screen: use the console.'),
    sshd: no('Podman containers run no SSH server Hangar reaches: use hangar exec, or an nspawn container or a VM.'),
    iso: no('Containers boot no installer: ISO installs are for VMs (qemu).'),
    firmwares: [],
    disks: {
      ...yes,
      kind: 'volume',
      buses: [],
      resize: no('A volume is a host directory: it has no size to grow.'),
      hotplug: no('podman cannot add or remove mounts of a running container (they are set at podman run -v): stop it to attach or detach a volume.'),
    },
    appContainers: yes,
    ociBoot: no('podman runs OCI images as application containers here; boot one under nspawn.'),
    // OCI images: podman pulls them itself from their registry, by the digest Hangar resolved.
    ociPull: here,
    needsRootfs: true,
    imageKinds: ['debian-12', 'debian-13', 'rootfs', 'oci'],
    limits: { cpus: true, memory: true, disk: false },
    needs: ['podman'],
    available: here.available,
    reason: here.reason,
  };
}

export function podmanFacts(runtime: DriverRuntime): MachineFacts {
  const rt = podmanRuntime(runtime);
  return {
    accel: null,
    ssh: rt.ssh === true ? { port: null, user: 'root' } : null,
    network: rt.network ?? null,
    address: null,
    command: rt.command?.length ? rt.command : null,
  };
}
