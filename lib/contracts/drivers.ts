import { z } from 'zod';
import { capabilityNames } from './host';
import { firmwareSchema } from './isos';

/**
 * What a driver can do, as it describes itself: shared code (core, components, the CLI) asks
 * these questions instead of comparing driver names. It travels on every machine (its
 * `capabilities`, with what this host allows) and, per kind, on GET /api/drivers.
 */

/**
 * Console kinds: a VM's serial line, a container's pty (its holder), a login shell over SSH or through nsenter,
 * an adopted machine's system log followed over SSH (read only).
 */
export const consoleKinds = ['serial', 'container-pty', 'ssh-shell', 'container-shell', 'remote-log'] as const;

export const consoleChannelSchema = z.object({
  kind: z.enum(consoleKinds),
  /** Its tab: "Serial console", "Console", "SSH", "Shell". */
  label: z.string(),
  /** In a list of consoles (the workspace's picker): "serial", "console", "SSH", "shell". */
  short: z.string(),
});
export type ConsoleChannel = z.infer<typeof consoleChannelSchema>;

/** Something a driver may or may not do, with the reason when it cannot. */
export const featureSchema = z.object({ available: z.boolean(), reason: z.string().nullable() });
export type Feature = z.infer<typeof featureSchema>;

export const networkModes = ['private', 'nat', 'host'] as const;

export const driverDescriptionSchema = z.object({
  /** Display words: the kind ("VM (QEMU, TCG)", "Container (nspawn)"), and what job logs and charts say. */
  words: z.object({
    kind: z.string(),
    /** Progress of a create (before the driver's own log lines): "Creating the disk overlay". */
    creating: z.string(),
    /** Progress of a start: "Starting (qemu, tcg)". */
    starting: z.string(),
    /** The console log (Boot log tab): "Serial line", "Container output". */
    consoleLog: z.string(),
    /** The memory chart's host-side line ("host (qemu RSS)", "in use") and what the limit is called ("Its RAM", "Its limit"). */
    memorySeries: z.string(),
    memoryLimit: z.string(),
    /** Why the memory figure is larger than the guest's use, when it is. */
    memoryNote: z.string().nullable(),
    /** Where network figures come from when the host has none. */
    networkNote: z.string().nullable(),
  }),
  consoles: z.object({
    main: consoleChannelSchema,
    /** The login shell channel it offers, if any; a machine has it when its `ssh` is set (a VM's image runs sshd). */
    shell: consoleChannelSchema.nullable(),
    /** The sentence a placeholder starts with while the shell cannot open: "SSH", "The shell". */
    shellSubject: z.string(),
  }),
  checkpoint: z.object({
    /** Of a running machine: memory and devices too (live), its files only, or nothing. */
    running: z.enum(['live', 'filesystem', 'none']),
    /** Of a stopped one. */
    stopped: z.enum(['disk', 'filesystem', 'none']),
    /** Why live checkpoints are not available (from the host probe), when they are not. */
    reason: z.string().nullable(),
    /** The button and its explanation, for a running and for a stopped machine. */
    label: z.string(),
    title: z.string(),
    stoppedLabel: z.string(),
    stoppedTitle: z.string(),
  }),
  fork: featureSchema,
  /**
   * Moves to another node of a cluster (`hangar move NAME --to NODE`): a stopped machine by copying its
   * files; a running one when `live` is available, the way `running` says: `memory` keeps the guest
   * running (QEMU's migration), `restart` freezes it, copies its files and starts it on the other node
   * (a container: its processes start again there; it runs on here if the move fails).
   */
  move: featureSchema.extend({ live: featureSchema, running: z.enum(['memory', 'restart']) }),
  /**
   * Start, stop, restart, pause and resume: Hangar runs the machine's process. Not available for a
   * machine Hangar only reaches (an adopted server: its power is its own), with the reason.
   */
  power: featureSchema,
  /** Made from an image or an ISO (create, the New machine form); not available: its machines are adopted instead. */
  create: featureSchema,
  /** Registers a machine that exists already, reached over the network (`hangar adopt`, POST /machines/adopt). */
  adopt: featureSchema,
  /** Hot snapshots: processes started ahead for forks, waiting for the snapshot's state. */
  hotStandby: featureSchema,
  /** A snapshot as one archive file to move to another host. */
  archiveExport: featureSchema,
  /** The machine as a systemd unit file of the host. */
  unitFile: featureSchema,
  /** Files copied in and out of a running machine (`hangar cp`, the Files tab). */
  files: featureSchema,
  /** Networks a machine of this kind can be put on; empty: it has its own, no choice (a VM's user-mode NAT). */
  networks: z.array(z.object({ mode: z.enum(networkModes), label: z.string(), available: z.boolean(), reason: z.string().nullable() })),
  portForwards: z.object({
    available: z.boolean(),
    reason: z.string().nullable(),
    protocols: z.array(z.enum(['tcp', 'udp'])),
    /** Networks forwards need (empty: any). */
    networks: z.array(z.enum(networkModes)),
  }),
  /**
   * OpenSSH through Hangar (`hangar ssh-config`, `hangar ssh --stdio`): the guest's sshd is reached
   * through the server, lets in the keys of the users who may operate it, and shows its host keys.
   */
  sshd: featureSchema,
  /**
   * A graphical screen: the Display tab (a VNC stream bridged by the server, viewers read-only)
   * and screenshots of it. A machine has it while it runs with a display device.
   */
  display: featureSchema,
  /** Installs from an ISO: an empty disk and the ISO in a CD-ROM drive (create `iso`), discs inserted and ejected while it runs. */
  iso: featureSchema,
  /** Firmware a machine may boot with (create `firmware`); empty: not a choice (containers). */
  firmwares: z.array(firmwareSchema),
  /**
   * Extra disks: a VM's own block devices (`disk`: sized, on a bus, resizable) or a container's
   * volumes (`volume`: host directories bind-mounted at a guest path); attached while it runs when
   * `hotplug` is available, else at its next start.
   */
  disks: featureSchema.extend({
    kind: z.enum(['disk', 'volume']),
    buses: z.array(z.enum(['virtio-blk', 'virtio-scsi'])),
    resize: featureSchema,
    hotplug: featureSchema,
  }),
  /** Runs one command without an init (an application container; `command` on create, `hangar run`). */
  appContainers: featureSchema,
  /** Boots an OCI image that holds systemd as an OS container (create `boot`). */
  ociBoot: featureSchema,
  /**
   * Runs OCI images from their registry with its own pull (by the digest Hangar resolved, with the
   * registry's credentials and TLS switch) instead of the layers Hangar unpacked. Absent: no.
   */
  ociPull: featureSchema.optional(),
  /** Needs an image that keeps its root filesystem as a directory (containers). */
  needsRootfs: z.boolean(),
  /** Image kinds it runs: recipes' (`busybox`, `debian-12`) and `oci` (images pulled from a registry). */
  imageKinds: z.array(z.string()),
  /** Which resources apply to it (and are limits it enforces). */
  limits: z.object({ cpus: z.boolean(), memory: z.boolean(), disk: z.boolean() }),
  /** Host features it needs (see the host probe), and whether this host has them. */
  needs: z.array(z.enum(capabilityNames)),
  available: z.boolean(),
  reason: z.string().nullable(),
});
export type DriverDescription = z.infer<typeof driverDescriptionSchema>;
