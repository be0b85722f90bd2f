import type { ConsoleExit, ConsoleOutput, ConsoleViewers } from './contracts/console';
import type { Image } from './contracts/images';
import type { Job, JobLogLine } from './contracts/jobs';
import type { Machine } from './contracts/machines';
import type { ClusterNode } from './contracts/nodes';
import type { HostStatsTick, MachineStatsTick } from './contracts/stats';

/** Server -> client messages on the `/events` namespace. */
export interface EventsServerToClient {
  'job:update': (job: Job) => void;
  'job:log': (msg: { jobId: string; lines: JobLogLine[] }) => void;
  'machine:update': (machine: Machine) => void;
  'machine:removed': (msg: { id: string }) => void;
  'image:update': (image: Image) => void;
  'image:removed': (msg: { id: string }) => void;
  /** The snapshot tree changed (a checkpoint, restore, fork or delete): refetch it. */
  'snapshots:changed': (msg: { id: string }) => void;
  /**
   * Server-side only (no socket forwards it): something happened to a machine that its
   * console recordings mark on their timeline (see lib/recording-markers.ts).
   */
  'machine:moment': (msg: { machineId: string; kind: 'checkpoint' | 'restore' | 'fork'; text: string; snapshotId: string }) => void;
  /** The step cache changed (a step cached, a node invalidated): refetch the tree. */
  'steps:changed': (msg: { key: string }) => void;
  /** Every 2 s while anyone is connected: the running machines the receiver sees, with rates over the last interval. */
  'stats:machines': (tick: MachineStatsTick) => void;
  'stats:host': (tick: HostStatsTick) => void;
  /** A cluster node joined, went offline or came back, or was drained or removed (`removed`). */
  'node:update': (node: ClusterNode & { removed?: boolean }) => void;
}

/** Client -> server on `/events`; payloads parsed with zod (contracts/stats.ts). */
export interface EventsClientToServer {
  /** The machine page this socket shows (its guest-side figures are sampled while it does), or null. */
  'stats:watch': (msg: unknown) => void;
}

/** Server -> client messages on the `/console` namespace. Output is acked: the ack is the flow control. */
export interface ConsoleServerToClient {
  output: (msg: ConsoleOutput, ack: () => void) => void;
  exit: (msg: ConsoleExit) => void;
  viewers: (msg: ConsoleViewers) => void;
  closed: (msg: { sessionId: string; reason: string }) => void;
  /** The machine whose serial console this session was refused (not running) runs now: attach again. */
  retry: (msg: { sessionId: string }) => void;
}

/** Client -> server messages on `/console`; every payload is parsed with the zod schemas in contracts/console.ts. */
export interface ConsoleClientToServer {
  attach: (req: unknown, reply: (r: import('./contracts/console').AttachReply) => void) => void;
  input: (msg: unknown) => void;
  resize: (msg: unknown) => void;
  detach: (msg: unknown) => void;
  /** Take, release or give the keyboard of a shared console. */
  keyboard: (msg: unknown, reply: (r: import('./contracts/console').KeyboardReply) => void) => void;
}
