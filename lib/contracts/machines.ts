import { z } from 'zod';
import { errorCodes, idSchema, nameSchema, timestampSchema } from './common';
import { driverDescriptionSchema } from './drivers';
import { userDataSchema } from './disk-images';
import { firmwareSchema, isoNameSchema } from './isos';
import { jobSchema } from './jobs';
import { containerNetworks, driverKinds } from './machine-kinds';
import { nodeNameSchema } from './nodes';

export { containerNetworks, driverKinds };

/**
 * `unknown` is shown, never recorded: the node that runs the machine is offline (stateReason 'node
 * offline'); the database's column keeps the others (MachineRow['state']).
 */
export const machineStates = ['creating', 'stopped', 'starting', 'running', 'paused', 'stopping', 'failed', 'unknown'] as const;
export const machineStateSchema = z.enum(machineStates);
export type MachineState = z.infer<typeof machineStateSchema>;

export const driverKindSchema = z.enum(driverKinds);
export type DriverKind = z.infer<typeof driverKindSchema>;

/** A label for filtering and grouping machines: lowercase, as typed in a search box. */
export const tagSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,31}$/, 'a tag: lowercase letters, digits, ".", "_" or "-", 1-32 characters, starting with a letter or digit');
export const tagsSchema = z
  .array(tagSchema)
  .max(16, 'at most 16 tags')
  .refine((t) => new Set(t).size === t.length, 'a tag given twice');

export const portForwardSchema = z.object({
  host: z.number().int().min(1024).max(65535),
  guest: z.number().int().min(1).max(65535),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
});
export type PortForward = z.infer<typeof portForwardSchema>;

export const machineSchema = z.object({
  id: idSchema,
  name: nameSchema,
  driver: driverKindSchema,
  image: z.string(),
  state: machineStateSchema,
  stateReason: z.string().nullable(),
  /** The cluster node that runs it (null on one node). */
  node: z.object({ id: z.string(), name: z.string() }).nullable(),
  cpus: z.number().int(),
  memoryMib: z.number().int(),
  diskGib: z.number().int(),
  ports: z.array(portForwardSchema),
  ownerId: idSchema.nullable(),
  /** The snapshot-tree node it runs on: the last checkpoint taken of it, or the snapshot it was restored to or forked from. */
  snapshotId: idSchema.nullable(),
  /** The accelerator it last started with: kvm when the host probe says KVM really works, else tcg. */
  accel: z.enum(['kvm', 'tcg']).nullable(),
  /** SSH into the guest (images with sshd): the loopback port Hangar forwards, and the user. */
  ssh: z.object({ port: z.number().int().nullable(), user: z.string() }).nullable(),
  /**
   * Containers: their own namespace with loopback only, a veth with an address and NAT (port forwards),
   * or the host's network; null for VMs (user-mode NAT).
   */
  network: z.enum(containerNetworks).nullable(),
  /** A container's own IPv4 address (network nat), reachable from the host. */
  address: z.string().nullable(),
  /** Application containers: the command they run (no init); null for OS containers and VMs. */
  command: z.array(z.string()).nullable(),
  /** VMs: the library ISO in its CD-ROM drive (null: none, or no drive). */
  cdrom: z.string().nullable(),
  /** VMs: the firmware it boots with (null: containers). */
  firmware: firmwareSchema.nullable(),
  /** Its console sessions are recorded as asciicast files (Settings tab). */
  recordConsole: z.boolean(),
  tags: z.array(z.string()),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  /** What its driver can do for this machine on this host: ask this, never the driver's name. */
  capabilities: driverDescriptionSchema,
});
export type Machine = z.infer<typeof machineSchema>;

/**
 * A list of machines (GET /api/machines): each machine names its driver's description by
 * `capabilitiesKey`, and the list carries each description once, in `capabilities`. The
 * description is most of a machine's JSON (2.5 of 2.9 KB), and most machines share one or two.
 * Hangar's own client (`lib/client`, for the UI and CLI) gives every machine its `capabilities` back (`withCapabilities`).
 */
export const machineListItemSchema = machineSchema.omit({ capabilities: true }).extend({
  /** Its description's key in the list's `capabilities`. */
  capabilitiesKey: z.string(),
});
export type MachineListItem = z.infer<typeof machineListItemSchema>;
export const machineListSchema = z.object({
  items: z.array(machineListItemSchema),
  next: z.string().nullable(),
  /** The descriptions this list's machines name, by key. */
  capabilities: z.record(z.string(), driverDescriptionSchema),
});
export type MachineList = z.infer<typeof machineListSchema>;

/** A list as the API sends it, each machine with its description again (the same object for machines that share one). */
export function withCapabilities(list: MachineList): { items: Machine[]; next: string | null } {
  return {
    items: list.items.map(({ capabilitiesKey, ...m }) => {
      const capabilities = list.capabilities[capabilitiesKey];
      if (!capabilities) throw new Error(`machine ${m.name}: its description ${capabilitiesKey} is not in the list`);
      return { ...m, capabilities };
    }),
    next: list.next,
  };
}

/** A driver as GET /api/drivers lists it: its kind and what it can do on this host. */
export const driverInfoSchema = driverDescriptionSchema.extend({ kind: driverKindSchema });
export type DriverInfo = z.infer<typeof driverInfoSchema>;

const commandSchema = z.array(z.string().min(1, 'an empty argument').max(65536)).min(1).max(1024);

export const createMachineBodySchema = z.object({
  name: nameSchema,
  /** The image it starts from; omitted with `iso` (an empty disk and the installer ISO instead). */
  image: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'an image name')
    .optional(),
  /** Install from ISO: an empty disk of `diskGib`, this library ISO in a CD-ROM drive, booted from it once (drivers whose `iso` is available). */
  iso: isoNameSchema.optional(),
  /** VMs: BIOS (default) or UEFI (OVMF), where the driver lists it in `firmwares`. */
  firmware: firmwareSchema.optional(),
  driver: driverKindSchema.default('qemu'),
  cpus: z.number().int().min(1).max(16).default(1),
  memoryMib: z.number().int().min(64).max(65536).default(512),
  diskGib: z.number().int().min(1).max(1024).default(2),
  ports: z.array(portForwardSchema).max(16).default([]),
  start: z.boolean().default(true),
  /**
   * Containers: their own network namespace with loopback only (default); `nat`: a veth with an
   * address of its own, outbound NAT and port forwards (nspawn); or the host's (its services take host ports).
   */
  network: z.enum(containerNetworks).default('private'),
  /** Containers: an application container runs this command (argv) instead of booting systemd; it stops when the command ends. */
  command: commandSchema.optional(),
  /** OCI images: replaces the image's Entrypoint, and its Cmd with it (`command` follows it, as docker's --entrypoint). */
  entrypoint: commandSchema.optional(),
  /** OCI images that hold systemd: boot them as an OS container instead of running their entrypoint (drivers whose `ociBoot` is available). */
  boot: z.boolean().optional(),
  /** Disk images: cloud-init user-data (YAML, `#cloud-config`) merged into the NoCloud seed Hangar makes for the machine. */
  userData: userDataSchema.optional(),
  tags: tagsSchema.default([]),
  /**
   * The cluster node to make it on (as GET /api/nodes names them); default: the least loaded node that can
   * take it, its image copied there (ISO installs: the node asked).
   */
  node: nodeNameSchema.optional(),
});
export type CreateMachineBody = z.infer<typeof createMachineBodySchema>;

/** `user@host[:port]` (an IPv6 address in brackets): where an adopted machine's sshd listens. */
export const SSH_TARGET_PATTERN = /^([a-z_][a-z0-9_.-]{0,31})@(\[[0-9a-fA-F:.]{2,45}\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252})(?::(\d{1,5}))?$/;

/** The parts of `user@host[:port]` (port 22 when not given), or null when it is not one. */
export function parseSshTarget(text: string): { user: string; host: string; port: number } | null {
  const m = SSH_TARGET_PATTERN.exec(text);
  if (!m) return null;
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535) return null;
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port };
}

/** Register a machine that exists already (a server, a cloud VM), reached over SSH: `hangar adopt`. */
export const adoptBodySchema = z.object({
  name: nameSchema,
  /** user@host[:port] */
  ssh: z.string().refine((v) => parseSshTarget(v) !== null, 'user@host[:port] (a port from 1 to 65535)'),
  /** The private key Hangar logs in with (OpenSSH or PEM text): kept 0600 in the machine's dir, never shown again. */
  privateKey: z.string().min(1).max(16384),
  /** The key's passphrase, when it has one: kept 0600 beside it (Hangar logs in unattended), never shown again. */
  passphrase: z.string().min(1).max(1024).optional(),
  /** A driver whose description says `adopt` is available. */
  driver: driverKindSchema.default('ssh'),
  tags: tagsSchema.default([]),
});
export type AdoptBody = z.input<typeof adoptBodySchema>;

export const stopMachineBodySchema = z.object({
  force: z.boolean().default(false),
  timeoutS: z.number().int().min(1).max(600).default(30),
});
export type StopMachineBody = z.infer<typeof stopMachineBodySchema>;

export const machineActions = ['start', 'stop', 'restart', 'pause', 'resume'] as const;
export type MachineAction = (typeof machineActions)[number];

export const execBodySchema = z.object({
  argv: z.array(z.string().max(65536)).min(1).max(1024),
  timeoutS: z.number().int().min(1).max(3600).default(60),
});
export type ExecBody = z.infer<typeof execBodySchema>;

/**
 * exec with its output streamed as it comes (`hangar exec`): the events of a run (runOnceEventSchema), stdout as it comes,
 * stderr (its last 64 KiB) before the exit. `stdin`: the caller's input is taken at /machines/{ref}/stdin/{id} (the start
 * event's id), its end being the command's EOF; without it the command reads an empty stdin.
 */
export const execStreamBodySchema = execBodySchema.extend({ stdin: z.boolean().default(false) });
export type ExecStreamBody = z.infer<typeof execStreamBodySchema>;

export const execResultSchema = z.object({
  code: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  durationMs: z.number(),
});
export type ExecResult = z.infer<typeof execResultSchema>;

export const unitFileSchema = z.object({ name: z.string(), unit: z.string() });

/** Run a command once in a fresh application container (docker run): output streams back as it comes. */
export const runOnceBodySchema = z.object({
  /** A Hangar image by name; or `ref`. */
  image: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'an image name')
    .optional(),
  /**
   * A registry reference (`HOST/NAME:TAG`, `NAME@sha256:...`) of an image pulled here already: a run
   * needs no pull request of its own first. Not pulled yet: 404 with the issue path `ref` (pull it).
   */
  ref: z.string().min(1).max(512).optional(),
  /** A driver that runs application containers (its description says so). */
  driver: driverKindSchema.default('nspawn'),
  /** The command; empty: an OCI image's own Entrypoint and Cmd. */
  argv: z.array(z.string().min(1, 'an empty argument').max(65536)).max(1024),
  /** The caller sends its stdin (POST /machines/{machine}/stdin/{id}, both in the `start` event); its end is the command's EOF. */
  stdin: z.boolean().default(false),
  /** The machine's name; a generated one when omitted. */
  name: nameSchema.optional(),
  /** Remove the container when the command ends (otherwise it stays, stopped, with its files and exit code). */
  rm: z.boolean().default(true),
  network: z.enum(containerNetworks).default('private'),
  /** Limits of the container's cgroup (enforced). */
  memoryMib: z.number().int().min(16).max(65536).default(256),
  cpus: z.number().int().min(1).max(16).default(1),
  timeoutS: z.number().int().min(1).max(86400).default(3600),
  /** In a cluster: run it on this node (else on the least loaded node that can, as a create is placed). */
  node: nodeNameSchema.optional(),
});
export type RunOnceBody = z.infer<typeof runOnceBodySchema>;

/** One line of a run's NDJSON stream: output chunks, then the end with the exit code. */
export const runOnceEventSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('start'), machine: nameSchema, stdin: z.string().optional() }),
  z.object({ t: z.enum(['stdout', 'stderr']), d: z.string() }),
  z.object({ t: z.literal('exit'), code: z.number().int(), durationMs: z.number(), removed: z.boolean() }),
  z.object({ t: z.literal('error'), message: z.string() }),
]);
export type RunOnceEvent = z.infer<typeof runOnceEventSchema>;

export const logsQuerySchema = z.object({
  /** Byte offset to read from (the `next` of the last answer, to follow); default: the last `tail` bytes. */
  from: z.coerce.number().int().min(0).optional(),
  tail: z.coerce
    .number()
    .int()
    .min(1)
    .max(4 * 2 ** 20)
    .default(64 * 1024),
});

/** A piece of a machine's console log: its text, and the offset to ask from next. */
export const logsSchema = z.object({ text: z.string(), next: z.number().int(), size: z.number().int() });

/** What the machine list's bulk bar (and `hangar stop a b c`) can do to several machines at once. */
export const bulkActions = ['start', 'stop', 'force-stop', 'restart', 'pause', 'resume', 'checkpoint', 'destroy'] as const;
export type BulkAction = (typeof bulkActions)[number];

export const bulkBodySchema = z.object({
  action: z.enum(bulkActions),
  /** Machine names or ids, each once. */
  machines: z
    .array(z.string().max(64))
    .min(1)
    .max(500)
    .refine((m) => new Set(m).size === m.length, 'a machine given twice'),
});
export type BulkBody = z.infer<typeof bulkBodySchema>;

/** Per machine, in the order asked: the job it started, or why it did not (the others go on). */
export const bulkResultSchema = z.object({
  results: z.array(
    z.object({
      machine: z.string(),
      job: jobSchema.nullable(),
      error: z.object({ code: z.enum(errorCodes), message: z.string() }).nullable(),
    }),
  ),
});
export type BulkResult = z.infer<typeof bulkResultSchema>;
