import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/**
 * An ISO's name in the library: a plain file name (no `/`, no leading dot, so never `..`),
 * the way it appears in `hangar create --iso NAME`.
 */
export const isoNameSchema = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'an ISO name: letters, digits, ".", "_", "+" or "-", not starting with a dot (no "/" or "..")')
  .refine((s) => !s.includes('..'), 'an ISO name without ".."');

export const isoFormats = ['iso9660', 'udf'] as const;

export const isoSchema = z.object({
  id: idSchema,
  name: isoNameSchema,
  sizeBytes: z.number().int().nonnegative(),
  /** What its volume descriptors say it is (checked before it was kept). */
  format: z.enum(isoFormats),
  /** `upload:<file name>` or the URL it was downloaded from. */
  source: z.string(),
  createdAt: timestampSchema,
  /** Machines with it in their CD-ROM drive now (by name): it cannot be deleted while any has. */
  usedBy: z.array(z.string()),
});
export type Iso = z.infer<typeof isoSchema>;

export const isoParams = z.object({ name: isoNameSchema });

export const uploadIsoQuerySchema = z.object({
  name: isoNameSchema,
});

export const addIsoUrlBodySchema = z.object({
  name: isoNameSchema,
  url: z
    .string()
    .max(2000)
    .regex(/^https?:\/\/\S+$/i, 'an http(s):// URL'),
});
export type AddIsoUrlBody = z.infer<typeof addIsoUrlBodySchema>;

export const firmwares = ['bios', 'uefi'] as const;
export const firmwareSchema = z.enum(firmwares);
export type Firmware = z.infer<typeof firmwareSchema>;

/** Put a library ISO into a machine's CD-ROM drive (insert), or take the disc out (eject: no `iso`). */
export const cdromBodySchema = z.object({
  action: z.enum(['insert', 'eject']),
  iso: isoNameSchema.optional(),
});
export type CdromBody = z.infer<typeof cdromBodySchema>;

export const cdromStateSchema = z.object({
  machine: z.string(),
  /** The library ISO in the drive, or null (empty). */
  iso: z.string().nullable(),
});
