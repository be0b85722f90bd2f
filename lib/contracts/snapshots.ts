import { z } from 'zod';
import { idSchema, nameSchema, timestampSchema } from './common';

export const snapshotKinds = ['live', 'disk'] as const;
export const snapshotStates = ['pending', 'complete', 'failed'] as const;

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
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const labelSchema = z
  .string()
  .trim()
  .max(120)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

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
