import { z } from 'zod';
import { idSchema, nameSchema, timestampSchema } from './common';

/**
 * Backup targets (Settings -> Backups, admins): an S3-compatible bucket or a directory of the
 * host. The secret key is kept by the server and never returned; a target answers `hasSecret`.
 */
export const backupTargetKinds = ['s3', 'dir'] as const;
export const backupTargetKindSchema = z.enum(backupTargetKinds);

/** S3 bucket names: 3-63 lowercase letters, digits, dots and dashes. */
const bucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, '3-63 lowercase letters, digits, dots and dashes')
  .refine((b) => !b.includes('..'), 'no two dots in a row');
/** Keys start with it: path segments of letters, digits, dots, dashes and underscores, no "." or "..". */
const prefixSchema = z
  .string()
  .max(200)
  .regex(/^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*(?:[A-Za-z0-9_-][A-Za-z0-9._-]*)?$/, 'segments of letters, digits, ".", "_" and "-" separated by "/"');
const endpointSchema = z
  .string()
  .trim()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && (u.pathname === '/' || u.pathname === '');
    } catch {
      return false;
    }
  }, 'an http:// or https:// URL of the S3 service, without credentials or a path');

export const backupTargetSchema = z.object({
  id: idSchema,
  name: nameSchema,
  kind: backupTargetKindSchema,
  /** S3: where; the access key id is shown, the secret never. */
  s3: z
    .object({
      endpoint: z.string().nullable(),
      bucket: z.string(),
      prefix: z.string(),
      region: z.string(),
      accessKeyId: z.string(),
      hasSecret: z.boolean(),
    })
    .nullable(),
  /** Directory: an absolute path on the host. */
  dir: z.object({ path: z.string() }).nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type BackupTarget = z.infer<typeof backupTargetSchema>;

export const createBackupTargetBodySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('s3'),
    name: nameSchema,
    /** Empty for AWS itself; the URL of any other S3-compatible service. */
    endpoint: endpointSchema.optional(),
    bucket: bucketSchema,
    prefix: prefixSchema.default(''),
    region: z
      .string()
      .regex(/^[a-z0-9-]{2,32}$/, 'a region name such as us-east-1')
      .default('us-east-1'),
    accessKeyId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
    secretAccessKey: z
      .string()
      .min(1)
      .max(500)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  }),
  z.object({
    kind: z.literal('dir'),
    name: nameSchema,
    path: z
      .string()
      .max(1000)
      .refine((p) => p.startsWith('/'), 'an absolute path on the host')
      // eslint-disable-next-line no-control-regex -- a path with control characters is a mistake or an attack
      .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), 'no control characters'),
  }),
]);
export type CreateBackupTargetBody = z.input<typeof createBackupTargetBodySchema>;

/** A backup id: the time it began and a random part, so that ids sort by age. */
export const BACKUP_ID_PATTERN = /^bk-[0-9]{13}-[a-z0-9]{8}$/;
export const backupIdSchema = z.string().regex(BACKUP_ID_PATTERN, 'a backup id (bk-...)');

export const backupSchema = z.object({
  id: backupIdSchema,
  targetId: idSchema,
  machineId: z.string().nullable(),
  machineName: z.string().nullable(),
  snapshotId: z.string(),
  snapshotLabel: z.string(),
  kind: z.enum(['live', 'disk']),
  driver: z.string(),
  image: z.string(),
  scheduleId: z.string().nullable(),
  /** When the backup was made; the snapshot's own time is `snapshotCreatedAt`. */
  createdAt: timestampSchema,
  snapshotCreatedAt: timestampSchema,
  /** What it restores to (files and every disk layer), and what its objects take on the target (compressed). */
  sizeBytes: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
  layers: z.number().int().nonnegative(),
});
export type Backup = z.infer<typeof backupSchema>;

export const createBackupBodySchema = z.object({ target: z.string().min(1).max(64).describe('a target id or name') });
export type CreateBackupBody = z.infer<typeof createBackupBodySchema>;

export const restoreBackupBodySchema = z.object({ name: nameSchema.describe('the new machine') });
export type RestoreBackupBody = z.infer<typeof restoreBackupBodySchema>;
