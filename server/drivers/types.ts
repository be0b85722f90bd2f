import type { Duplex } from 'node:stream';
import type { DiskBus, MachineDisk } from '@/lib/contracts/disks';
import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import type { ImageKind } from '@/lib/contracts/images';
import type { DriverKind, Machine, PortForward } from '@/lib/contracts/machines';
import type { PhaseMarks } from '@/lib/phases';
import type { OciImageConfig } from './oci/bundle';

/** Something a console session reads from and types into: a pty, a serial socket, an SSH channel. */
export interface ConsoleSource {
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Stop reading output until resume(): the backpressure path. */
  pause(): void;
  resume(): void;
  onData(fn: (data: string) => void): void;
  onExit(fn: (code: number | null) => void): void;
  close(): void;
}

/** A command run in a guest. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Cumulative counters of a running machine (the stats service turns them into rates). */
export interface MachineCounters {
  /** CPU time used, nanoseconds. */
  cpuNs?: number;
  memBytes?: number;
  memLimitBytes?: number;
  guestMemBytes?: number;
  diskReadBytes?: number;
  diskWriteBytes?: number;
  diskUsedBytes?: number;
  netRxBytes?: number;
  netTxBytes?: number;
}

/**
 * A driver's own record of a machine (pid, MAC, disk layer, network lease...), kept by core in
 * the machine's row and never read outside the driver: each driver parses it with its own zod
 * schema (see runtime.ts beside it). Core only stores what drivers return and merges patches.
 */
export type DriverRuntime = Readonly<Record<string, unknown>>;

/** What a driver needs to know about a machine; `dir` is its own directory under the data dir. */
export interface MachineSpec {
  id: string;
  name: string;
  dir: string;
  /** Where disk layers live (shared with snapshots, so a frozen layer outlives its machine). */
  layers: string;
  cpus: number;
  memoryMib: number;
  diskGib: number;
  ports: PortForward[];
  runtime: DriverRuntime;
}

/** How to boot an image: written next to its files when it is built. */
export interface BootInfo {
  /** Kernel command line of the image; the driver adds the per-machine parts. */
  append: string;
  /** The guest runs sshd: the machine gets a key pair and a forwarded port. */
  ssh: boolean;
  diskBytes: number;
  /** A disk image: the guest boots its own kernel from the disk (BIOS or UEFI), not one Hangar passes. */
  ownKernel?: boolean;
  /** The guest runs cloud-init: each machine gets a NoCloud seed (hostname, SSH keys, user-data). */
  cloudInit?: boolean;
  /** A disk image's firmware, read off its partition table at import; a machine's own choice wins. */
  firmware?: 'bios' | 'uefi';
}

export interface BootFiles extends BootInfo {
  /** The image's name. */
  image: string;
  kernel: string;
  initrd: string;
  disk: string;
  /** The image's root filesystem as a directory (containers run on an overlay of it), when it keeps one. */
  rootfs?: string;
  /** The image's kind (a recipe's, or `oci`): drivers say in their description which kinds they run. */
  kind?: string;
  /**
   * An OCI image: its unpacked layers (lowest first, over `rootfs`, an empty shim) and its kept config;
   * for drivers whose description has `ociPull`, where to pull it from themselves.
   */
  oci?: { layers: string[]; config: OciImageConfig; pull?: OciPullSource };
}

/**
 * An OCI image on its registry, pinned by digest, as a driver pulls it itself. The credentials
 * never travel in it: `withAuthFile` writes a containers auth file (0600, in a private temp dir
 * under the data dir) holding this registry's alone, runs `fn` with its path, and removes it.
 */
export interface OciPullSource {
  /** HOST/REPOSITORY@sha256:HEX */
  ref: string;
  registry: string;
  /** TLS verification off (the registry is marked insecure; plain HTTP too). */
  insecure: boolean;
  /** A dir with the registry's CA (ca.crt), when one is set. */
  certDir: string | null;
  /** Credentials are kept for the registry (a refusal then reads "login failed"). */
  creds: boolean;
  withAuthFile<T>(fn: (file: string) => Promise<T>): Promise<T>;
}

/** The facts of a machine the API shows that only its driver's record holds. */
export type MachineFacts = Pick<Machine, 'accel' | 'ssh' | 'network' | 'address' | 'command'> & Partial<Pick<Machine, 'cdrom' | 'firmware'>>;

/** A driver's new record of a machine, and what it did in words (for the job's log). */
export interface DriverResult {
  runtime: DriverRuntime;
  log: string[];
}

/** A snapshot to start from instead of booting: its state and RAM files. */
export interface StartFrom {
  dir: string;
  banner: string;
  /** Where the start's time goes (a restore's phases, read by the snapshots bench). */
  phases?: PhaseMarks;
  /** Start the process and leave it waiting for the state (a hot snapshot's standby: see HotStandbyOps). */
  standby?: boolean;
}

export interface StartOptions {
  /** The host probe (which accelerator works, say). */
  host: HostInfo;
  from?: StartFrom;
  /** Wait for a live move's migration stream instead of booting (the guest's RAM still its own shared file). */
  migrateIn?: boolean;
}

/** What must differ after a restore or fork, besides the clock and RNG every restore fixes. */
export interface Fixups {
  /** New hostname (forks: also a new MAC where the saved device state carries the source's). */
  hostname?: string;
  /** New /etc/machine-id and SSH host keys (Debian). */
  newIdentity?: boolean;
}

export interface CheckpointResult {
  live: boolean;
  /** The layer now frozen (owned by the snapshot). */
  frozenDisk: string;
  /** The machine's record from now on (a new writable layer), when it changed. */
  runtime?: DriverRuntime;
  pauseMs: number | null;
  /** Set when a live checkpoint failed after the disk switch: the snapshot keeps the disk only. */
  liveError?: string;
  /** Set when the machine did not run again after its checkpoint (the snapshot is good; the machine stays paused). */
  resumeError?: string;
  /** What the snapshot takes on disk: its files and its frozen layer. */
  sizeBytes: number;
}

/** A snapshot as branch() needs it: its frozen layer, its directory, and what its driver recorded. */
export interface SnapshotSource {
  frozen: string;
  dir: string;
  record: Record<string, unknown>;
}

export interface BranchTarget {
  id: string;
  name: string;
  dir: string;
  layers: string;
  diskGib: number;
}

/**
 * Hot snapshots: a process started ahead for a fork of a snapshot, waiting for the state. The
 * fork's start() with `from` then finds it in the record and only loads the state.
 */
export interface HotStandbyOps {
  /** Start it for the fork `m` (its dir, layers, size; an empty record): returns the fork's record, the waiting process in it. */
  prepare(snap: SnapshotSource, m: MachineSpec, image: BootFiles, host: HostInfo): Promise<DriverRuntime>;
  /** Still waiting: its process is alive and has not been used. */
  alive(m: MachineSpec): boolean;
  /** What its process holds resident, in bytes. */
  residentBytes(m: MachineSpec): number;
}

export interface RunOnceIo {
  onData(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** The caller's stdin, streamed to the command (its end is the command's EOF); none: empty. */
  stdin?: AsyncIterable<Uint8Array>;
  signal: AbortSignal;
  timeoutMs: number;
}

/** A command's streams for file copies (tar both ways): nothing is held whole in memory. */
export interface StreamIo {
  /** Fed to the command's stdin as it comes (its end is the command's EOF); none: empty. */
  stdin?: AsyncIterable<Uint8Array>;
  /** Where its stdout goes, with backpressure (a slow reader slows the command); none: dropped. */
  stdout?: NodeJS.WritableStream;
  signal: AbortSignal;
  timeoutMs: number;
}

/** A driver's snapshot archives (one file to move a snapshot to another host). */
export interface SnapshotArchiver {
  /** Files of a snapshot's directory that go into its archive when present. */
  readonly members: string[];
  /** Of those, the ones summed (SHA256SUMS) before an export, and the ones a live snapshot's archive must have sums for. */
  readonly summed: string[];
  readonly liveRequired: string[];
  /** The archive member holding the frozen layer flattened into one standalone file. */
  readonly disk: string;
  /**
   * More disks than the root one (a VM's extra disks), each flattened into an archive member of
   * its own (a backup: its layers kept apart, like the root disk's). None: the root disk only.
   */
  readonly extraDisks?: ExtraDiskArchiver;
  /** Container volumes: each one's contents a tar member of its own. None: the driver's machines have no volumes. */
  readonly volumes?: VolumeArchiver;
  /** The snapshot's record as its manifest carries it; throws a message naming what is wrong. */
  checkRecord(record: unknown): Record<string, unknown>;
  /** The frozen layer and everything below it as one standalone file (`record`: the snapshot's, as snapshotRecord() made it). */
  flatten(frozen: string, out: string, record?: Record<string, unknown>): Promise<void>;
  /**
   * Backups: the frozen layer and those below it as files, bottom first, the same bytes for an
   * unchanged layer; made in `tmp` (the caller removes it). None: chainOf(frozen) as they are.
   */
  layerFiles?(frozen: string, record: Record<string, unknown>, tmp: string): Promise<string[]>;
  /**
   * An import's disk (moved into the layers dir) made what this driver's machines stand on:
   * the snapshot's frozen layer, its record, and every path it made (removed if the import fails).
   */
  adopt?(disk: string, record: Record<string, unknown>): Promise<{ disk: string; record: Record<string, unknown>; made: string[] }>;
  /**
   * Backups keep the frozen layers apart (an unchanged one is not uploaded again): join such
   * layers, bottom first, each a standalone file as the chain held it, into the archive's disk.
   */
  join?(layers: string[], out: string): Promise<void>;
  /** Unpacked files are what they claim (complete state, a standalone disk); throws a message naming the file. */
  check(dir: string, live: boolean): Promise<void>;
}

/** How a driver's snapshot records name their extra disks, for archives and backups. */
export interface ExtraDiskArchiver {
  /** Every member name such a disk may have in an archive. */
  readonly members: string[];
  /** The disks a snapshot's record names: each one's member name and frozen file (throws on a damaged record). */
  of(record: Record<string, unknown>): { member: string; frozen: string }[];
  /** The record with each disk's file replaced by `files.get(member)` (an import's copy on this host). */
  place(record: Record<string, unknown>, files: Map<string, string>): Record<string, unknown>;
}

/**
 * How a driver's snapshots carry their volumes' contents in archives and backups: one tar per
 * volume (`volume-NAME.tar`), checked (no member outside its root) and unpacked into the
 * imported snapshot's directory, where forks copy them from. A volume without one starts empty.
 */
export interface VolumeArchiver {
  /** The volume an archive member is for, or null when the name is no volume member's. */
  nameOf(member: string): string | null;
  /** The volumes whose contents the snapshot (its directory and record) holds: each one's member name and directory. */
  of(snapDir: string, record: Record<string, unknown>): { member: string; dir: string }[];
  /** A volume's directory as a tar in `out`: the same bytes for the same tree (a backup sends an unchanged volume once). */
  pack(dir: string, out: string): Promise<void>;
  /**
   * The volume members in `work` (checksums verified): each one named by the record, checked and
   * unpacked into `work` as the snapshot's copy of that volume, the member removed. Returns their names.
   */
  unpack(work: string, record: Record<string, unknown>): Promise<string[]>;
}

/**
 * OpenSSH through Hangar, for machines whose description says `sshd` is available: a byte stream
 * to the guest's sshd (the tunnel of `hangar ssh --stdio`), its host keys, and the users' keys it
 * lets in (root's authorized_keys, kept by Hangar in a block of its own).
 */
export interface SshdAccess {
  /** The user OpenSSH logs in as. */
  readonly user: string;
  connect(m: MachineSpec): Promise<Duplex>;
  /** "TYPE BASE64" lines of the guest's host public keys. */
  hostKeys(m: MachineSpec): Promise<string[]>;
  /** Replace the users' keys in the running guest ("TYPE BASE64 COMMENT" lines). */
  authorize(m: MachineSpec, keys: string[]): Promise<void>;
}

/**
 * A machine's screen, for machines whose description says `display` is available: the raw RFB
 * (VNC) byte stream of its display server, and a PNG of the screen as it is now.
 */
export interface DisplayAccess {
  connect(m: MachineSpec): Promise<Duplex>;
  screenshot(m: MachineSpec): Promise<Buffer>;
}

/** A library ISO as a driver gets it: its name (shown) and its file under the data dir. */
export interface IsoFile {
  name: string;
  path: string;
}

/**
 * A VM's CD-ROM drive, for machines whose description says `iso` is available. A machine made
 * to install from an ISO gets `installFrom` in its record at create (with `firmware`); `change`
 * puts a disc in (or takes it out: null), live through the monitor when it runs, and returns its new record.
 */
export interface CdromAccess {
  change(m: MachineSpec, iso: IsoFile | null): Promise<DriverRuntime>;
}

/** A new extra disk or volume, checked by core (name, size, path) before it gets here. */
export interface NewDisk {
  name: string;
  sizeGib: number | null;
  bus: DiskBus;
  guestPath: string | null;
  attach: boolean;
}

/**
 * Extra disks or volumes, for machines whose description says `disks` is available. Kept in the
 * driver's record (so they follow the machine through restarts, checkpoints and forks); each call
 * returns the new record. Errors are the host's or the guest's answer (core shows them as 409).
 */
export interface DiskAccess {
  list(m: MachineSpec): MachineDisk[];
  add(m: MachineSpec, disk: NewDisk): Promise<DriverRuntime>;
  /** Attach or detach: hot-plugged when the machine runs, else only recorded for its next start. */
  setAttached(m: MachineSpec, name: string, attached: boolean): Promise<DriverRuntime>;
  /** Grow (core refuses smaller sizes). */
  resize?(m: MachineSpec, name: string, sizeGib: number): Promise<DriverRuntime>;
  /** A detached one's files go. */
  remove(m: MachineSpec, name: string): Promise<DriverRuntime>;
}

/**
 * A file tree to diff: overlay directories (bottom first; whiteouts and opaque dirs understood),
 * or a qcow2 disk (its chain read as is) holding an ext filesystem.
 */
export type DiffSource =
  /** `mtimeSlackMs`: how far two mtimes of one file may be apart and still be the same (a layer made from a tar keeps whole seconds). */
  { kind: 'layers'; layers: string[]; mtimeSlackMs?: number } | { kind: 'disk'; disk: string };

/** Where an existing machine is reached: `hangar adopt NAME --ssh user@host[:port] --key FILE`. */
export interface AdoptTarget {
  user: string;
  host: string;
  port: number;
  /** The private key's text (OpenSSH or PEM), kept 0600 in the machine's dir. */
  privateKey: string;
}

/**
 * Machines that exist already, for drivers whose description says `adopt` is available: log in
 * (pinning the host key), run a command, and return the machine's record. Throws a message saying
 * what went wrong (unreachable, login refused, not a key), having removed what it wrote in `m.dir`.
 */
export interface AdoptAccess {
  adopt(m: MachineSpec, target: AdoptTarget): Promise<DriverResult>;
}

/** A file a move copies to the other node: `name` is how both sides call it (letters, digits, `.-_`). */
export interface MoveFile {
  name: string;
  path: string;
}

/** What a machine's move copies, as its driver lists it on the node it leaves. */
export interface MovePlan {
  /** Never written while the machine runs (frozen layers, the image's base): copied first, bottom first. */
  frozen: MoveFile[];
  /** The machine's own files (its keys, its console log; a stopped machine's writable layer). */
  own: MoveFile[];
  /** What the driver on the other node needs besides the files (the disk's size, say). */
  meta: Record<string, unknown>;
}

/**
 * Moves between nodes, for drivers whose description says `move` is available. The node the
 * machine leaves lists the files (plan); the node it goes to gets them (checked by core), places
 * them under the machine's dirs there (place) and, for a live move, starts the machine waiting for
 * its state (receive); the first node then sends it (send) and the second takes over (settle).
 */
export interface MoveAccess {
  plan(m: MachineSpec, live: boolean): MovePlan;
  /**
   * On the receiving node (`m`: its dirs there, the record as the machine left): the files as they
   * arrived (name -> path), moved into place. Returns the machine's record here and every file made
   * outside `m.dir` (removed if the move fails).
   */
  place(m: MachineSpec, got: Map<string, string>, meta: Record<string, unknown>, live: boolean): Promise<{ runtime: DriverRuntime; made: string[] }>;
  /** Live moves (the description's `move.live`). */
  readonly live?: LiveMoveOps;
}

/** Where the receiving side of a live move listens. */
export interface MoveEndpoint {
  host: string;
  /** The migration stream. */
  migrate: number;
  /** The writable layer's export (NBD), written by the sender's block mirror. */
  nbd: number;
}

export interface LiveMoveOps {
  /** Receiving node: start the placed machine waiting for its state on `host`, its disk exported for the mirror. */
  receive(m: MachineSpec, image: BootFiles, host: HostInfo, listen: string): Promise<{ runtime: DriverRuntime; endpoint: MoveEndpoint }>;
  /**
   * Sending node: mirror the writable layer, then migrate; `progress` 0 to 100 with a line now and then.
   * Resolves once the other side has it all (this side's guest stopped); throws with the guest still
   * running here when it fails.
   */
  send(m: MachineSpec, to: MoveEndpoint, progress: (pct: number, line?: string) => void, signal: AbortSignal): Promise<{ downtimeMs: number; log: string[] }>;
  /** Receiving node, once the sender is done: the export closed, the guest running here. */
  settle(m: MachineSpec): Promise<void>;
}

/** One interface for every machine kind; the registry picks by `driver`. */
export interface MachineDriver {
  readonly kind: DriverKind;
  /** What it can do on this host (`host` null: not probed yet), for one machine when its record is given. */
  describe(host: HostInfo | null, runtime?: DriverRuntime): DriverDescription;
  /** The facts of a machine the API shows, from its record. */
  facts(runtime: DriverRuntime): MachineFacts;
  /**
   * Files of its live snapshots: `checked` are summed before the snapshot counts as complete and
   * verified before each restore or fork; `bulk` (large) are summed just after.
   */
  readonly snapshotFiles: { checked: string[]; bulk: string[] };
  /** branch() for a restore touches none of the running machine's files, so it may run while that one stops. */
  readonly branchesBesideRunning: boolean;
  readonly archive?: SnapshotArchiver;
  /** Where the description says `hotStandby` is available (destroy() ends an unused one). */
  readonly hotStandby?: HotStandbyOps;

  create(m: MachineSpec, image: BootFiles): Promise<DriverResult>;
  /**
   * The image is being deleted: drop the copies of it this driver keeps in a store of its own
   * (podman's pull or import), if any. A copy a container still uses stays. Never throws.
   */
  forgetImage?(image: BootFiles): Promise<void>;
  start(m: MachineSpec, image: BootFiles, opts: StartOptions): Promise<DriverResult>;
  /** Clean shutdown within `timeoutMs`, else (or with `force`) a hard stop. Resolves once the machine is down, with its record. */
  stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }): Promise<{ clean: boolean; runtime: DriverRuntime }>;
  pause(m: MachineSpec): Promise<void>;
  resume(m: MachineSpec): Promise<void>;
  isRunning(m: MachineSpec): boolean;
  /** Why a machine that ended on its own stopped, when the driver knows (an application container's exit code). */
  exitReason?(m: MachineSpec): string | null;
  /** The guest finished booting (for busybox: its init announced itself on the console). */
  isReady(m: MachineSpec): boolean;
  /** Paused or running, asked of the live machine (after a server restart). */
  status(m: MachineSpec): Promise<'running' | 'paused' | 'stopped'>;
  openConsole(m: MachineSpec): ConsoleSource;
  /** The file the console's output is logged to, from the first boot (serial line, or the container's pty). */
  consoleLog(m: MachineSpec): string;
  /** A login shell (over SSH, or into a container); null when the machine has none. */
  openShell(m: MachineSpec, cols: number, rows: number): Promise<ConsoleSource> | null;
  /** Run argv in the guest: stdout, stderr and exit code. */
  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }): Promise<ExecResult>;
  /** Run argv in the guest with streamed stdin and stdout (`hangar cp`); stderr is kept (its last 64 KiB). */
  execStream?(m: MachineSpec, argv: string[], io: StreamIo): Promise<{ code: number; stderr: string }>;
  destroy(m: MachineSpec): Promise<void>;
  /** Freeze the disk layer under a new one and, when running, save memory and devices to `dir`. */
  checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult>;
  /** What a snapshot of this machine records, for branch() to make machines from it again. */
  snapshotRecord(m: MachineSpec): Record<string, unknown>;
  /**
   * Records for machines that start from a snapshot's frozen layer, each with a new writable
   * layer of its own on it: a restore (merged over the machine's record) or new forks.
   */
  branch(snap: SnapshotSource, targets: BranchTarget[], mode: 'restore' | 'fork'): Promise<DriverRuntime[]>;
  /** After a restore recorded its new layer: the one the machine ran on before, which no snapshot owns. */
  discard?(m: MachineSpec): void;
  /**
   * Containers: run the application container's command (from create()) once, its stdout and
   * stderr streamed to `io`, stdin from `io` (or empty); resolves with its exit code. An abort (the caller went
   * away) or the timeout kills the whole container.
   */
  runOnce?(m: MachineSpec, io: RunOnceIo): Promise<{ code: number; timedOut: boolean }>;
  /** Remove a frozen layer that is not a file under the layers dir (a podman image), when its snapshot is deleted. */
  dropLayer?(frozen: string): Promise<void>;
  /** Every layer a machine with this record stands on (garbage collection keeps them). */
  layersOf(runtime: DriverRuntime): string[];
  /** A frozen layer and the layers below it. */
  chainOf(frozen: string): string[];
  /** Where a snapshot's and a machine's files can be read for a diff (none: the driver cannot). */
  readonly diffSource?: {
    snapshot(frozen: string, record: Record<string, unknown>): DiffSource | Promise<DiffSource>;
    machine(m: MachineSpec): DiffSource | Promise<DiffSource>;
  };
  /** After a crash in the middle of a checkpoint: the record as the live machine says it is, when that differs. */
  repair(m: MachineSpec): Promise<DriverRuntime | null>;
  /** Fix what must differ after a restore or fork (clock, RNG, and for forks hostname, MAC, identity). */
  fixup(m: MachineSpec, f: Fixups): Promise<void>;
  /**
   * Cumulative counters for the live graphs, read from the host (procfs, cgroups, QMP); with
   * `guest`, also what only the guest knows (a VM's network and memory use, through its agent).
   * Null when the machine is not running.
   */
  stats(m: MachineSpec, opts: { guest: boolean }): Promise<MachineCounters | null>;
  /** The machine as a systemd unit file of the host. */
  unitFile?(m: MachineSpec): string;
  /** OpenSSH through Hangar (see SshdAccess); absent where the kind has no sshd. */
  readonly sshd?: SshdAccess;
  /** The screen (see DisplayAccess); absent where the kind has none. */
  readonly display?: DisplayAccess;
  /** Its CD-ROM drive (where the description says `iso` is available). */
  readonly cdrom?: CdromAccess;
  /** Extra disks or volumes (see DiskAccess); absent where the kind has none. */
  readonly disks?: DiskAccess;
  /** Moves to another node (see MoveAccess); absent where the description says `move` is not available. */
  readonly move?: MoveAccess;
  /** Registers machines that exist already (see AdoptAccess); absent where the kind makes its machines. */
  readonly adopt?: AdoptAccess;
  /** Host files into a stopped machine's root filesystem (`to`: a path inside it); returns the paths as the guest sees them. */
  addFiles?(m: MachineSpec, files: { from: string; to: string }[]): string[];
}

export interface ImageBuildContext {
  log(line: string): void;
  progress(percent: number, message?: string): void;
  signal: AbortSignal;
  /** Guest kernels, fetched once and kept. */
  kernels: string;
  /** Downloads worth keeping between builds. */
  cache: string;
  /** The Debian mirror setting ('' : the environment's, else the host's apt sources). */
  debianMirror: string;
}

export interface BuiltImage {
  sizeBytes: number;
  boot: BootInfo;
  /** Shown with the image (kernel version, mirror...). */
  facts: Record<string, unknown>;
}

/** One image recipe (busybox, Debian): builds into a scratch dir that core renames into place. */
export interface ImageRecipe {
  readonly kind: ImageKind;
  /** What the image records as its recipe. */
  readonly recipe: Record<string, unknown>;
  /** How to boot images of this recipe built before boot.json existed. */
  readonly legacyBoot: BootInfo;
  build(scratch: string, ctx: ImageBuildContext): Promise<BuiltImage>;
}

/** Everything core reaches on the host side, injected by createCore (tests pass a fake). */
export interface DriverRegistry {
  /** The driver of a kind; throws when this build has none. */
  get(kind: DriverKind): MachineDriver;
  all(): MachineDriver[];
  recipe(kind: ImageKind): ImageRecipe;
  /** What the host can do (see host.ts). */
  probeHost(opts: { workDir: string; kernel: string | null }): Promise<HostInfo>;
  /** A login shell on the host itself (the admin's host console). */
  hostShell(size: { cols: number; rows: number }): ConsoleSource;
}
