import { z } from 'zod';
import { idSchema, timestampSchema } from './common';
import { recordingSchema } from './recordings';

/** What a share link lets its holder do: watch the console, or type into it too. */
export const shareRoleSchema = z.enum(['viewer', 'operator']);

export const shareSchema = z.object({
  id: idSchema,
  machineId: idSchema,
  role: shareRoleSchema,
  label: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
  revokedAt: timestampSchema.nullable(),
  lastUsedAt: timestampSchema.nullable(),
  state: z.enum(['active', 'expired', 'revoked']),
  /** A recording link: it plays this one recording of the machine, read-only, and opens nothing else. Null: a console link. */
  recordingId: z.string().nullable(),
});
export type Share = z.infer<typeof shareSchema>;

export const createShareBodySchema = z.object({
  role: shareRoleSchema.default('viewer'),
  /** Default 24 h; at most 30 days. */
  expiresInSeconds: z
    .number()
    .int()
    .min(5)
    .max(30 * 86400)
    .default(86400),
  label: z.string().trim().min(1).max(64).optional(),
});
export type CreateShareBody = z.input<typeof createShareBodySchema>;

/** The token is shown once; the link is the page that opens the console with it. */
export const createdShareSchema = z.object({ share: shareSchema, token: z.string(), path: z.string() });

/** What the holder of a link learns: the machine it opens, and for how long. */
export const shareInfoSchema = z.object({
  /** `display`: the machine has a screen the link may watch (never type on), when it runs. */
  machine: z.object({ id: idSchema, name: z.string(), state: z.string(), display: z.boolean() }),
  /** A shell the link may open beside the console (an operator link to a machine with sshd, or a container's nsenter shell); its tab's name. */
  shell: z.object({ label: z.string() }).nullable(),
  role: shareRoleSchema,
  label: z.string().nullable(),
  expiresAt: timestampSchema,
});
export type ShareInfo = z.infer<typeof shareInfoSchema>;

/** A link to one recording: read-only by nature (no role), until it expires (24 h by default) or is revoked. */
export const createRecordingShareBodySchema = createShareBodySchema.omit({ role: true });
export type CreateRecordingShareBody = z.input<typeof createRecordingShareBodySchema>;

/** What the holder of a recording link learns: the recording, whose machine's it is, and until when. */
export const recordingShareInfoSchema = z.object({
  machine: z.object({ name: z.string() }),
  recording: recordingSchema,
  label: z.string().nullable(),
  expiresAt: timestampSchema,
});
export type RecordingShareInfo = z.infer<typeof recordingShareInfoSchema>;
