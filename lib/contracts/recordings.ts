import { z } from 'zod';
import { idSchema, listOf, timestampSchema } from './common';
import { tagsSchema } from './machines';

/** One recorded console session (asciicast v2). */
export const recordingSchema = z.object({
  id: z.string(),
  machineId: idSchema,
  /** Which console: serial, or ssh. */
  console: z.string(),
  startedAt: timestampSchema,
  bytes: z.number().int(),
  durationS: z.number(),
  /** Still being written (the session is open). */
  active: z.boolean(),
});
export type Recording = z.infer<typeof recordingSchema>;

/** A marker on a recording's timeline: a checkpoint, restore or fork of its machine, or a command typed at a prompt. */
export const recordingMarkerSchema = z.object({
  /** Seconds from the recording's start. */
  t: z.number(),
  kind: z.enum(['checkpoint', 'restore', 'fork', 'command', 'note']),
  label: z.string(),
  /** The snapshot a checkpoint, restore or fork marker refers to ("Restore here", "Fork here"). */
  snapshotId: idSchema.optional(),
});
export type RecordingMarkerView = z.infer<typeof recordingMarkerSchema>;
/** Every marker at once unless a `limit` asks for pages (a recording's markers are a few hundred at most). */
export const recordingMarkersSchema = listOf(recordingMarkerSchema);

export const recordingParams = z.object({ id: z.string().regex(/^rec-[0-9]{13}-[a-z0-9-]{1,80}$/, 'a recording id') });

export const patchMachineBodySchema = z
  .object({
    /** Record this machine's console sessions from their next start. */
    recordConsole: z.boolean().optional(),
    /** Replace the machine's tags. */
    tags: tagsSchema.optional(),
  })
  .strict();
export type PatchMachineBody = z.infer<typeof patchMachineBodySchema>;
