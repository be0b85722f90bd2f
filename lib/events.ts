import type { ConsoleExit, ConsoleOutput, ConsoleViewers } from './contracts/console';
import type { Image } from './contracts/images';
import type { Job, JobLogLine } from './contracts/jobs';
import type { Machine } from './contracts/machines';

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
  /** The step cache changed (a step cached, a node invalidated): refetch the tree. */
  'steps:changed': (msg: { key: string }) => void;
}
export type EventsClientToServer = Record<string, never>;

/** Server -> client messages on the `/console` namespace. Output is acked: the ack is the flow control. */
export interface ConsoleServerToClient {
  output: (msg: ConsoleOutput, ack: () => void) => void;
  exit: (msg: ConsoleExit) => void;
  viewers: (msg: ConsoleViewers) => void;
  closed: (msg: { sessionId: string; reason: string }) => void;
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
