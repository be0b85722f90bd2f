import { z } from 'zod';
import { idSchema } from './common';
import { driverKinds, portForwardSchema } from './machines';
import { nodeNameSchema } from './nodes';

/** `hangar move NAME --to NODE`, POST /api/machines/{ref}/move. */
export const moveBodySchema = z.object({
  /** The node the machine goes to (another online node that runs its driver, not draining, with memory to spare). */
  node: nodeNameSchema,
});
export type MoveBody = z.infer<typeof moveBodySchema>;

/** What a move job returns. */
export const moveResultSchema = z.object({
  machine: z.string(),
  from: z.string(),
  to: z.string(),
  live: z.boolean(),
  /** A running machine's move: how long it was stopped at the switch (ms): as QEMU measured it, or for a restart from its freeze to its start there. */
  downtimeMs: z.number().nullable(),
  bytes: z.number(),
  totalS: z.number(),
});
export type MoveResult = z.infer<typeof moveResultSchema>;

/** File names a move carries: letters, digits, dot, dash, underscore (the driver's names, never a path). */
export const moveFileNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a move file name');
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);
/** A move's id: random, unguessable; the sending node serves its files under it while the move runs. */
export const moveIdSchema = z.string().regex(/^mv_[A-Za-z0-9_-]{16,64}$/);

/** Internal: the sending node asks the receiving one whether it would take the machine (its driver, memory, ports). */
export const moveCheckBodySchema = z.object({
  machineId: idSchema,
  driver: z.enum(driverKinds),
  memoryMib: z.number().int().positive(),
  ports: z.array(portForwardSchema),
});

/** Internal: before a container is held for its move, the receiving node makes the image's files its own (a copy when another node holds them). */
export const moveImageBodySchema = z.object({
  moveId: moveIdSchema,
  image: z.string().min(1).max(200),
  driver: z.enum(driverKinds),
});

/** Internal: the machine as the receiving node needs it, and the files it fetches from the sender (size and SHA-256 each). */
export const moveReceiveBodySchema = z.object({
  moveId: moveIdSchema,
  machine: z.object({
    id: idSchema,
    name: z.string().min(1).max(63),
    driver: z.enum(driverKinds),
    image: z.string().nullable(),
    cpus: z.number().int().positive(),
    memoryMib: z.number().int().positive(),
    diskGib: z.number().int().positive(),
    ports: z.array(portForwardSchema),
    runtime: z.record(z.string(), z.unknown()),
  }),
  live: z.boolean(),
  /** A running machine moved by restart: started here once its files are placed. */
  start: z.boolean().default(false),
  files: z.array(z.object({ name: moveFileNameSchema, bytes: z.number().int().nonnegative(), sha256: sha256Schema, frozen: z.boolean() })).max(64),
  meta: z.record(z.string(), z.unknown()),
});
export type MoveReceiveBody = z.infer<typeof moveReceiveBodySchema>;

/** Internal: one line of the receiving node's answer (JSON lines): its progress, then what it made or why it could not. */
export const moveReceiveLineSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('progress'), pct: z.number(), line: z.string().optional() }),
  z.object({
    t: z.literal('ready'),
    runtime: z.record(z.string(), z.unknown()),
    /** Where the receiving qemu listens, and the TLS key (for this move only) both streams take. */
    endpoint: z.object({ host: z.string(), migrate: z.number().int(), nbd: z.number().int(), key: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  }),
  z.object({ t: z.literal('error'), message: z.string() }),
]);
export type MoveReceiveLine = z.infer<typeof moveReceiveLineSchema>;

export const moveRefParams = z.object({ id: moveIdSchema });
export const moveFileParams = z.object({ id: moveIdSchema, name: moveFileNameSchema });
