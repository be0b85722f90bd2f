import { z } from 'zod';

/**
 * A path inside a machine: absolute and normal (no `.` or `..` parts, no NUL), so what a caller
 * names is what is touched; `hangar cp` resolves relative paths before it asks.
 */
export const guestPathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'an absolute path in the machine (starts with /)')
  .refine((p) => !p.includes('\0'), 'no NUL byte')
  .refine(
    (p) =>
      p === '/' ||
      p
        .split('/')
        .slice(1)
        .every((s, i, all) => (s !== '' || i === all.length - 1) && s !== '.' && s !== '..'),
    'no . or .. parts, no //',
  )
  .describe('An absolute path in the machine');

export const filePathQuery = z.object({ path: guestPathSchema });
/** A download: `?download=1` answers as an attachment. */
export const fileDownloadQuery = filePathQuery.extend({ download: z.enum(['1', 'true']).optional() });

export const fileStatSchema = z.object({
  path: z.string(),
  type: z.enum(['file', 'directory', 'other']),
  /** Bytes, for a regular file. */
  size: z.number().int().nonnegative().nullable(),
});
export type FileStat = z.infer<typeof fileStatSchema>;

export const filesPushedSchema = z.object({
  ok: z.literal(true),
  /** Where the files went (the directory extracted into, or the file written). */
  path: z.string(),
  /** Members of the archive extracted (1 for a single file). */
  members: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type FilesPushed = z.infer<typeof filesPushedSchema>;
