import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import type { ImageKind } from '@/lib/contracts/images';
import type { DriverKind } from '@/lib/contracts/machines';
import type {
  ConsoleSource,
  ExecResult,
  MachineCounters,
  DriverRuntime,
  MachineSpec,
  BootInfo,
  BootFiles,
  MachineFacts,
  DriverResult,
  StartOptions,
  Fixups,
  CheckpointResult,
} from './machine-types';
import type {
  SnapshotSource,
  BranchTarget,
  HotStandbyOps,
  RunOnceIo,
  StreamIo,
  SnapshotArchiver,
  SshdAccess,
  DisplayAccess,
  CdromAccess,
  DiskAccess,
  DiffSource,
  AdoptAccess,
  MoveAccess,
} from './driver-access';

// The driver boundary. The types it uses live beside it: machine-types.ts (a machine's spec, boot files, console,
// results) and driver-access.ts (one interface per optional capability); both are exported from here as well.
export type * from './machine-types';
export type * from './driver-access';

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
