import type { DriverDescription, Feature } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import { capOf, hostHas, no, yes } from '../shared/describe';
import type { DriverRuntime, MachineFacts } from '../types';
import { hasOvmf } from './cdrom-argv';
import { qemuRuntime } from './runtime';

/** The accelerator a start uses here: KVM when the probe says it really works, else TCG. */
export const accelFor = (host: HostInfo | null): 'kvm' | 'tcg' => (capOf(host, 'kvm')?.available ? 'kvm' : 'tcg');

/** QEMU VMs: a serial console, SSH where the image has sshd, live checkpoints, archives. */
export function describeQemu(host: HostInfo | null, runtime?: DriverRuntime): DriverDescription {
  const rt = runtime ? qemuRuntime(runtime) : null;
  const here = hostHas(host, ['qemu']);
  return {
    words: {
      kind: rt?.accel ? `VM (QEMU, ${rt.accel === 'kvm' ? 'KVM' : 'TCG'})` : 'VM (QEMU)',
      creating: 'Creating the disk overlay',
      starting: `Starting (qemu, ${accelFor(host)})`,
      consoleLog: 'Serial line',
      memorySeries: 'host (qemu RSS)',
      memoryLimit: 'Its RAM',
      memoryNote: "qemu's resident set also holds its own code and TCG's translation cache.",
      networkNote:
        "A VM's network is counted by its guest agent while this page is open (user-mode networking has no counters on the host); " +
        'the first figures come a few seconds after opening.',
    },
    consoles: {
      main: { kind: 'serial', label: 'Serial console', short: 'serial' },
      // A machine has it when its image runs sshd (its `ssh` is set).
      shell: { kind: 'ssh-shell', label: 'SSH', short: 'SSH' },
      shellSubject: 'SSH',
    },
    checkpoint: {
      running: 'live',
      stopped: 'disk',
      reason: null,
      label: 'Checkpoint',
      title: 'Live: memory, devices and disk, while the guest pauses for about a tenth of a second.',
      stoppedLabel: 'Checkpoint (disk only)',
      stoppedTitle: 'Stopped: only the disk is saved. Start the machine for a live checkpoint with its memory.',
    },
    fork: yes,
    move: moveOf(rt, here),
    power: yes,
    create: here,
    adopt: no('VMs are made from an image or an ISO: an existing machine is adopted as an SSH machine.'),
    // Processes started ahead on `-incoming defer` with the snapshot's RAM mapped (standby.ts).
    hotStandby: here,
    archiveExport: yes,
    unitFile: no('only nspawn containers export as a unit file'),
    // Over SSH, or a chunk at a time through the serial agent (busybox images).
    files: yes,
    // User-mode NAT of its own: no choice of network.
    networks: [],
    portForwards: { available: true, reason: null, protocols: ['tcp', 'udp'], networks: [] },
    // Its forwarded port 22 (the image runs sshd); busybox images have none.
    sshd: rt && rt.ssh !== true ? no("This machine's image runs no SSH server: use its serial console.") : yes,
    // A VGA screen through VNC; a run restored from a snapshot older than screens has none until it boots again.
    display:
      rt && rt.display === false && typeof rt.pid === 'number'
        ? no('This run was restored from a snapshot saved before machines had a screen: stop and start the machine for one.')
        : yes,
    // Machines made to install from an ISO have the drive; those made from an image boot their kernel directly.
    iso: rt && !rt.installer ? no('This machine has no CD-ROM drive: it was made from an image, not an ISO.') : here,
    firmwares: hasOvmf() ? ['bios', 'uefi'] : ['bios'],
    // qcow2 disks beside the root disk, hot-plugged through QMP (PCI hot-plug in the guest).
    disks: { ...yes, kind: 'disk', buses: ['virtio-blk', 'virtio-scsi'], resize: yes, hotplug: yes },
    appContainers: no('A command (application container) needs a container driver: nspawn or podman.'),
    ociBoot: no('VMs boot disk images: an OCI image boots as a container (nspawn).'),
    needsRootfs: false,
    imageKinds: ['busybox', 'debian-12', 'debian-13', 'disk'],
    limits: { cpus: true, memory: true, disk: true },
    needs: ['qemu'],
    available: here.available,
    reason: here.reason,
  };
}

/**
 * Moves to another node (qemu/move.ts): the root disk's chain, each extra disk's chain and the
 * machine's own files (its keys, console log, cloud-init seed, UEFI variables) are copied; a running
 * guest moves live (a block mirror of each attached disk's writable layer, then QEMU's migration).
 * A CD-ROM drive with an ISO in it is not carried: the ISO is this node's.
 */
function moveOf(rt: ReturnType<typeof qemuRuntime> | null, here: Feature): DriverDescription['move'] {
  // Like Proxmox with a local ISO: the drive's file is in this node's library, not the other's.
  const why = rt?.cdrom ? `eject the CD-ROM first: its ISO "${rt.cdrom.name}" is in this node's library` : null;
  const f: Feature = why ? no(why) : here;
  return { ...f, live: f, running: 'memory' };
}

export function qemuFacts(runtime: DriverRuntime): MachineFacts {
  const rt = qemuRuntime(runtime);
  return {
    accel: rt.accel ?? null,
    ssh: rt.ssh === true ? { port: typeof rt.sshPort === 'number' ? rt.sshPort : null, user: 'root' } : null,
    network: null,
    address: null,
    command: null,
    cdrom: rt.cdrom?.name ?? null,
    firmware: rt.firmware ?? 'bios',
  };
}
