import { z } from 'zod';
import { idSchema, timestampSchema } from './common';
import { scheduleStatusSchema } from './schedules';

/** Turn a machine's undo ring on (or change it): a live checkpoint every `everyMinutes`, keeping the newest `keep`. */
export const undoSettingsBodySchema = z
  .object({
    everyMinutes: z.number().int().min(1).max(1440).describe('minutes between undo points'),
    keep: z.number().int().min(1).max(100).describe('undo points kept: the oldest is pruned as a new one is taken'),
  })
  .strict();
export type UndoSettingsBody = z.infer<typeof undoSettingsBodySchema>;

/** Undo the last `minutes`: back to the newest undo point taken at or before now minus that. */
export const undoBodySchema = z
  .object({
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
  })
  .strict();
export type UndoBody = z.infer<typeof undoBodySchema>;

export const undoPointSchema = z.object({ id: idSchema, label: z.string(), createdAt: timestampSchema });

/** A machine's undo ring: its settings (null when off) and its points, newest first. */
export const undoRingSchema = z.object({
  machineId: idSchema,
  /** The schedule that takes the points (null when the ring is off). */
  scheduleId: idSchema.nullable(),
  everyMinutes: z.number().int().nullable(),
  keep: z.number().int().nullable(),
  nextRunAt: timestampSchema.nullable(),
  lastRunAt: timestampSchema.nullable(),
  lastStatus: scheduleStatusSchema.nullable(),
  lastError: z.string().nullable(),
  points: z.array(undoPointSchema),
});
export type UndoRing = z.infer<typeof undoRingSchema>;
