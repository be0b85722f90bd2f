import { parseDocument } from 'yaml';
import { z } from 'zod';
import { rootfsNameSchema } from './images';

/** Why user-data is not usable cloud-config: a YAML error, or YAML that is not a mapping; null when it is. */
export function userDataProblem(text: string): string | null {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) return `not YAML: ${doc.errors[0].message.split('\n')[0]}`;
  const v: unknown = doc.toJS();
  if (v !== null && (typeof v !== 'object' || Array.isArray(v))) return 'not a YAML mapping (cloud-config is keys and values)';
  return null;
}

/** cloud-init user-data from the create form or `--user-data FILE`: YAML cloud-config, at most 64 KiB. */
export const userDataSchema = z
  .string()
  .max(64 * 1024)
  .superRefine((text, ctx) => {
    const problem = userDataProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: `user-data is ${problem}` });
  })
  .describe('cloud-init user-data (YAML cloud-config), merged with the hostname and SSH keys Hangar puts in the seed');

const sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
  .transform((s) => s.toLowerCase());

const fileNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/\\\0]+$/, 'a file name, without a path');

/** A qcow2 or raw disk uploaded as the raw body. */
export const importDiskQuerySchema = z.object({
  name: rootfsNameSchema,
  sha256: sha256Schema.optional().describe('The file must have this SHA-256, checked before it is used'),
  file: fileNameSchema.optional().describe('The disk file name, kept as the image source'),
});
export type ImportDiskQuery = z.infer<typeof importDiskQuerySchema>;

/** A disk the server downloads (http/https, size-limited) or takes from a path on the server (the data dir's imports/ or an allowed dir). */
export const importDiskBodySchema = z
  .object({
    name: rootfsNameSchema,
    url: z
      .string()
      .url()
      .max(2048)
      .refine((u) => /^https?:\/\//i.test(u), 'an http or https URL')
      .optional(),
    path: z.string().min(1).max(4096).optional().describe("A file on the server: in the data dir's imports/ or a dir HANGAR_DISK_IMPORT_DIRS allows"),
    sha256: sha256Schema.optional(),
  })
  .refine((b) => (b.url ? 1 : 0) + (b.path ? 1 : 0) === 1, { message: 'give one of url or path', path: ['url'] });
export type ImportDiskBody = z.infer<typeof importDiskBodySchema>;

/** What a disk image import job returns. */
export const diskResultSchema = z.object({
  image: z.string(),
  format: z.enum(['qcow2', 'raw']),
  virtualBytes: z.number(),
  sizeBytes: z.number(),
  sha256: z.string(),
  firmware: z
    .enum(['bios', 'uefi'])
    .describe('What its machines boot with unless they ask: UEFI for a disk with an EFI system partition and no BIOS boot code'),
});
export type DiskResult = z.infer<typeof diskResultSchema>;
