import type { z } from 'zod';
import type { HostInfo } from '@/lib/contracts/host';
import type { bootInfoSchema } from '@/lib/contracts/images';
import type { Machine, PortForward } from '@/lib/contracts/machines';
import type { PhaseMarks } from '@/lib/phases';
import type { OciImageConfig } from './oci/bundle';

// What a driver is given and gives back for one machine: its spec, boot files, console, exec, results.

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
  /** How many CPUs that time is of, for a machine whose row gives none (an adopted server's own). */
  cpus?: number;
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

/** How to boot an image (its boot.json): one schema with the route that tells another node (lib/contracts/images.ts). */
export type BootInfo = z.infer<typeof bootInfoSchema>;

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
 * never travel in it: `withAccess` reads the registry's settings as they stand, writes a containers
 * auth file (0600, in a private temp dir under the data dir) holding this registry's alone, runs
 * `fn` with its path and the TLS settings, and removes the file.
 */
export interface OciPullSource {
  /** HOST/REPOSITORY@sha256:HEX */
  ref: string;
  registry: string;
  /** Runs `fn` with how the registry is reached as its settings stand now (they are the cluster's, changed on any node). */
  withAccess<T>(fn: (a: OciPullAccess) => Promise<T>): Promise<T>;
}

export interface OciPullAccess {
  /** TLS verification off (the registry is marked insecure; plain HTTP too). */
  insecure: boolean;
  /** A dir with the registry's CA (ca.crt), when one is set. */
  certDir: string | null;
  /** Credentials are kept for the registry (a refusal then reads "login failed"). */
  creds: boolean;
  /** A containers auth file with this registry's credentials alone (0600), for this call only. */
  authFile: string;
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
