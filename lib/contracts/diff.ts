import { z } from 'zod';

/** One side's file as the diff saw it (no content): what `ls -l` would show. */
export const fileMetaSchema = z.object({
  type: z.enum(['file', 'dir', 'symlink', 'other']),
  size: z.number().int().nonnegative(),
  /** Permission bits and set-id/sticky bits (mode & 0o7777). */
  mode: z.number().int().nonnegative(),
  uid: z.number().int().nonnegative(),
  gid: z.number().int().nonnegative(),
  /** Milliseconds since the epoch. */
  mtime: z.number(),
  /** A symlink's target. */
  target: z.string().optional(),
});
export type FileMeta = z.infer<typeof fileMetaSchema>;

export const diffChanges = ['added', 'removed', 'changed'] as const;
export const diffFields = ['type', 'size', 'mode', 'owner', 'mtime', 'target'] as const;

export const diffEntrySchema = z.object({
  /** Absolute inside the machine; bytes that are not UTF-8 and control characters shown escaped (\xNN). */
  path: z.string(),
  change: z.enum(diffChanges),
  /** What differs for `changed`. */
  fields: z.array(z.enum(diffFields)),
  before: fileMetaSchema.nullable(),
  after: fileMetaSchema.nullable(),
});
export type DiffEntry = z.infer<typeof diffEntrySchema>;

export const diffSideSchema = z.object({
  kind: z.enum(['snapshot', 'machine']),
  id: z.string(),
  label: z.string(),
  image: z.string(),
});

/** A unified diff of one small text file, or why there is none. */
export const fileDiffSchema = z.object({
  path: z.string(),
  /** null: not shown (binary, larger than the limit, not a regular file on either side); see `reason`. */
  unified: z.string().nullable(),
  reason: z.string().nullable(),
});
export type FileDiff = z.infer<typeof fileDiffSchema>;

export const diffResultSchema = z.object({
  a: diffSideSchema,
  b: diffSideSchema,
  driver: z.string(),
  /** How the files were read: the overlay layers of a container, or the filesystem inside a VM disk. */
  method: z.enum(['layers', 'disk']),
  /** False when the two come from different images (allowed: the diff says so). */
  sameImage: z.boolean(),
  counts: z.object({ added: z.number().int(), removed: z.number().int(), changed: z.number().int() }),
  /** Entries up to `limit`, sorted by path; `truncated` when there were more. */
  entries: z.array(diffEntrySchema),
  truncated: z.boolean(),
  /** How much was read: layers/directories walked, and the shared layers skipped unread. */
  walked: z.object({ entries: z.number().int(), skippedLayers: z.number().int() }),
  elapsedMs: z.number().int(),
  /** With ?path=: that file's content diff. */
  file: fileDiffSchema.optional(),
});
export type DiffResult = z.infer<typeof diffResultSchema>;

export const diffQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).default(5000),
  /** One file's unified content diff (small text files). */
  path: z.string().min(1).max(4096).optional(),
});

export const machineDiffQuerySchema = diffQuerySchema.extend({
  /** The snapshot to compare the machine's current files with (id or unique label); default: the one it runs on. */
  against: z.string().min(1).max(120).optional(),
});
