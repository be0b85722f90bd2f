import { z } from 'zod';
import { idSchema, isValidId, nameSchema, timestampSchema } from './common';

export const snapshotKinds = ['live', 'disk'] as const;
export const snapshotStates = ['pending', 'complete', 'failed'] as const;

/** A hot snapshot's processes started ahead for forks (see server/core/hot-pool.ts). */
export const hotPoolSchema = z.object({
  /** Standbys it keeps (the setting; 0 where its driver cannot). */
  target: z.number().int().nonnegative(),
  ready: z.number().int().nonnegative(),
  starting: z.number().int().nonnegative(),
  standbys: z.array(z.object({ id: idSchema, pid: z.number().int().nullable() })),
  /** What their processes hold resident now (the snapshot's RAM is mapped, so pages are shared until written). */
  residentBytes: z.number().int().nonnegative(),
  /** What they take from the host's memory limit: each as a machine of its size. */
  reservedMib: z.number().int().nonnegative(),
  /** Hot because a fork link hands out forks of it. */
  byForkLink: z.boolean(),
  /** Why it keeps none, when it cannot. */
  reason: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type HotPool = z.infer<typeof hotPoolSchema>;

export const hotBodySchema = z.object({ hot: z.boolean() });

/** A node of the snapshot tree: `live` = memory + devices + disk, `disk` = disk only. */
export const snapshotSchema = z.object({
  id: idSchema,
  parentId: idSchema.nullable(),
  /** The machine it was taken from (null once that machine is destroyed). */
  machineId: idSchema.nullable(),
  machineName: z.string().nullable(),
  kind: z.enum(snapshotKinds),
  label: z.string(),
  state: z.enum(snapshotStates),
  sizeBytes: z.number().int().nonnegative(),
  /** How long the guest was paused to take it (live snapshots). */
  pauseMs: z.number().int().nullable(),
  driver: z.string(),
  image: z.string(),
  memoryMib: z.number().int().nullable(),
  cpus: z.number().int().nullable(),
  /** Machines running on this node now (restored to it or forked from it, with no checkpoint since). */
  machines: z.array(z.object({ id: idSchema, name: z.string() })),
  createdAt: timestampSchema,
  /** A point of its machine's undo ring: taken every few minutes, pruned as the ring turns. */
  undoPoint: z.boolean(),
  /** Marked hot by hand (fork links' snapshots are hot without it: see `pool`). */
  hot: z.boolean(),
  /** Its standbys, when hot. */
  pool: hotPoolSchema.nullable(),
  /** Replicas on nodes other than the one holding it (a cluster: a fork there copied it); none on one node. */
  copies: z.array(
    z.object({
      /** The node's name (its id when it left the cluster). */
      node: z.string(),
      bytes: z.number().int().nonnegative(),
      /** When a fork on that node last used it (the least recently used go first past the node's budget). */
      lastUsedAt: timestampSchema,
    }),
  ),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const labelSchema = z
  .string()
  .trim()
  .max(120)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters')
  // A snapshot is named by its id or its label, the id first: a label shaped like an id would name another snapshot, or none.
  .refine((s) => !(s.startsWith('snp_') && isValidId(s)), 'not shaped like a snapshot id (a snapshot is named by its id first)');

export const checkpointBodySchema = z.object({ label: labelSchema.optional() });
export type CheckpointBody = z.infer<typeof checkpointBodySchema>;

export const restoreBodySchema = z.object({
  /** The machine to put back; by default the one the snapshot came from. */
  machine: z.string().max(64).optional(),
  /** Save the current state as a snapshot first, so the restore can be undone. */
  checkpointFirst: z.boolean().default(true),
});
export type RestoreBody = z.input<typeof restoreBodySchema>;

export const forkBodySchema = z.object({
  count: z.number().int().min(1).max(20).default(1),
  /** Forks are named PREFIX-1, PREFIX-2...; default: the source machine's name + "-fork". */
  namePrefix: nameSchema.refine((n) => n.length <= 56, 'at most 56 characters (room for the number)').optional(),
  /** Exact names for the forks instead (one per fork: count follows). */
  names: z.array(nameSchema).min(1).max(20).optional(),
  /** Regenerate /etc/machine-id and SSH host keys in each fork (Debian guests). */
  newIdentity: z.boolean().default(false),
});
export type ForkBody = z.input<typeof forkBodySchema>;

/** A snapshot's forks may run on another node than the one holding it (a cluster): it is copied there first. */
export const snapshotForkBodySchema = forkBodySchema.extend({
  /** The node the forks run on; default: the node that holds the snapshot. */
  node: nameSchema.optional(),
});
export type SnapshotForkBody = z.input<typeof snapshotForkBodySchema>;

export const snapshotPatchSchema = z.object({ label: labelSchema });

export const gcResultSchema = z.object({
  removedFiles: z.number().int().nonnegative(),
  removedSnapshots: z.number().int().nonnegative(),
  freedBytes: z.number().int().nonnegative(),
  /** Cached steps removed by the step cache's budget and age limits. */
  removedSteps: z.number().int().nonnegative().default(0),
  /** Pulled images' store entries no image names any more (their layers only they used go with them). */
  removedImages: z.number().int().nonnegative().default(0),
});
export type GcResultBody = z.infer<typeof gcResultSchema>;
