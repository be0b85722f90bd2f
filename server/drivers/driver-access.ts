import type { Duplex } from 'node:stream';
import type { DiskBus, MachineDisk } from '@/lib/contracts/disks';
import type { HostInfo } from '@/lib/contracts/host';
import type { BootFiles, DriverResult, DriverRuntime, MachineSpec } from './machine-types';

// What a driver offers beyond making and running a machine, one interface per capability (snapshots, archives,
// sshd, display, disks, adopt, moves); MachineDriver's optional members.

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
  /** Its passphrase, when it has one: kept 0600 beside it (Hangar logs in unattended, as an agent holding the key would). */
  passphrase?: string;
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
  /**
   * The files a move copies, listed (or packed into `tmp`, which the caller removes) on the node the
   * machine leaves; `live`: it runs (moved live, or held by `hold` meanwhile).
   */
  plan(m: MachineSpec, live: boolean, tmp: string): MovePlan | Promise<MovePlan>;
  /**
   * On the receiving node (`m`: its dirs there, the record as the machine left): the files as they
   * arrived (name -> path), moved into place. Returns the machine's record here and every file made
   * outside `m.dir` (removed if the move fails).
   */
  place(
    m: MachineSpec,
    got: Map<string, string>,
    meta: Record<string, unknown>,
    live: boolean,
    image: BootFiles | null,
  ): Promise<{ runtime: DriverRuntime; made: string[] }>;
  /** Live moves (the description's `move.live` with `running: 'memory'`). */
  readonly live?: LiveMoveOps;
  /**
   * Moves of a running machine by restart (`running: 'restart'`): held still (a container frozen)
   * while its files are packed and copied, then started on the other node; the returned call lets it
   * go on here when the move fails. It is destroyed here once the other node runs it.
   */
  hold?(m: MachineSpec): Promise<() => Promise<void>>;
}

/** Where the receiving side of a live move listens. */
export interface MoveEndpoint {
  host: string;
  /** The migration stream. */
  migrate: number;
  /** The writable layer's export (NBD), written by the sender's block mirror. */
  nbd: number;
  /** The pre-shared TLS key (64 hex digits) both streams take, made by the receiver for this move only. */
  key: string;
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
