import type { DriverKind, PortForward } from '@/lib/contracts/machines';
import type { ConsoleSource } from '@/server/core/console/source';
import type { MachineCounters } from './proc-stats';

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
  /** Driver-owned facts that must survive a server restart (pid, MAC, accelerator). */
  runtime: Record<string, unknown>;
}

export interface BootFiles {
  kernel: string;
  initrd: string;
  disk: string;
  /** Kernel command line of the image; the driver adds the per-machine parts. */
  append: string;
  /** The guest runs sshd: the machine gets a key pair and a forwarded port. */
  ssh: boolean;
  diskBytes: number;
  /** The image's root filesystem as a directory (containers run on an overlay of it), when it keeps one. */
  rootfs?: string;
}

/** One interface for every machine kind; the registry picks by `driver`. */
export interface MachineDriver {
  readonly kind: DriverKind;
  create(m: MachineSpec, image: BootFiles): Promise<Record<string, unknown>>;
  start(m: MachineSpec, image: BootFiles, accel: 'kvm' | 'tcg', from?: StartFrom): Promise<Record<string, unknown>>;
  /** Clean shutdown within `timeoutMs`, else (or with `force`) a hard stop. Resolves once the machine is down. */
  stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }): Promise<{ clean: boolean }>;
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
  /** A login shell over SSH, for machines whose image has sshd; null when it has none. */
  openShell(m: MachineSpec, cols: number, rows: number): Promise<ConsoleSource> | null;
  /** Run argv in the guest: stdout, stderr and exit code. */
  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string; durationMs: number }>;
  destroy(m: MachineSpec): Promise<void>;
  /** Freeze the disk layer under a new one and, when running, save memory and devices to `dir`. */
  checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult>;
  /**
   * Runtime fields for machines that start from a snapshot's frozen layer (`frozen`), each
   * with a new writable layer of its own on it; `spec` is what the snapshot recorded.
   */
  branch(
    frozen: string,
    targets: { id: string; dir: string; layers: string; diskGib: number; name: string }[],
    spec: Record<string, unknown>,
  ): Promise<Record<string, unknown>[]>;
  /**
   * Containers: run the application container's command (`runtime.command`, made by create())
   * once, its stdout and stderr streamed to `io`, stdin empty; resolves with its exit code. An
   * abort (the caller went away) or the timeout kills the whole container.
   */
  runOnce?(m: MachineSpec, io: RunOnceIo): Promise<{ code: number; timedOut: boolean }>;
  /** Remove a frozen layer that is not a file under the layers dir (a podman image), when its snapshot is deleted. */
  dropLayer?(frozen: string): Promise<void>;
  /** The disk file the running machine writes to now, asked of the process (to repair a record after a crash). */
  activeDisk(m: MachineSpec): Promise<string | null>;
  /** Fix what must differ after a restore or fork (clock, RNG, and for forks hostname, MAC, identity). */
  fixup(m: MachineSpec, f: Fixups): Promise<void>;
  /**
   * Cumulative counters for the live graphs, read from the host (procfs, cgroups, QMP); with
   * `guest`, also what only the guest knows (a VM's network and memory use, through its agent).
   * Null when the machine is not running.
   */
  stats(m: MachineSpec, opts: { guest: boolean }): Promise<MachineCounters | null>;
}

export interface RunOnceIo {
  onData(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  signal: AbortSignal;
  timeoutMs: number;
}

/** What must differ after a restore or fork, besides the clock and RNG every restore fixes. */
export interface Fixups {
  /** New hostname (forks). */
  hostname?: string;
  /** New MAC for the first NIC (forks: the saved device state carries the source's MAC). */
  mac?: string;
  /** New /etc/machine-id and SSH host keys (Debian). */
  newIdentity?: boolean;
}

export interface CheckpointResult {
  live: boolean;
  /** The layer now frozen (owned by the snapshot) and the machine's new writable layer. */
  frozenDisk: string;
  disk: string;
  pauseMs: number | null;
  /** Set when a live checkpoint failed after the disk switch: the snapshot keeps the disk only. */
  liveError?: string;
  /** Size of a frozen layer that is not a file (a podman image), when the driver knows it. */
  frozenBytes?: number;
}

/** A snapshot to start from instead of booting: its state and RAM files. */
export interface StartFrom {
  dir: string;
  banner: string;
}
