import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/** Image recipes Hangar can build: a seconds-to-boot busybox, and Debian 12 and 13 with systemd and SSH. */
export const imageKinds = ['busybox', 'debian-12', 'debian-13'] as const;
export const imageKindSchema = z.enum(imageKinds);
export type ImageKind = z.infer<typeof imageKindSchema>;

export const imageStates = ['building', 'ready', 'failed'] as const;

export const imageSchema = z.object({
  id: idSchema,
  name: z.string(),
  kind: z.string(),
  state: z.enum(imageStates),
  sizeBytes: z.number().int().nonnegative(),
  recipe: z.record(z.string(), z.unknown()),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type Image = z.infer<typeof imageSchema>;

export const buildImageBodySchema = z.object({ kind: imageKindSchema });
export type BuildImageBody = z.infer<typeof buildImageBodySchema>;

/** Pull an image from a registry: `docker://HOST[:PORT]/NAME:TAG`, `NAME[:TAG]` (the default registry) or `NAME@sha256:…`. */
export const pullImageBodySchema = z.object({
  ref: z.string().min(1).max(512).describe('docker://HOST[:PORT]/NAME[:TAG], NAME[:TAG] on the default registry (Settings), or NAME@sha256:DIGEST'),
  /** `always`: ask the registry which digest the ref names now; `missing`: an image pulled under this ref before is used as it is. */
  policy: z.enum(['always', 'missing']).default('always'),
});
export type PullImageBody = z.infer<typeof pullImageBodySchema>;

/** An uploaded archive's file name, as the import's job and the image's source show it. */
export const importImageQuerySchema = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^/\\\0]+$/, 'a file name, without a path')
    .optional()
    .describe('The archive file name, shown in the job and as the image source'),
});

/** What a pull job returns: the Hangar image (by name) the ref became, and whether it was there already. */
export const pullResultSchema = z.object({ image: z.string(), digest: z.string(), ref: z.string(), reused: z.boolean(), sizeBytes: z.number() });
export type PullResult = z.infer<typeof pullResultSchema>;

/** A registry's settings as the API shows them: never its password. */
export const registrySchema = z.object({
  host: z.string(),
  /** No TLS verification (plain HTTP too): for test registries only. */
  insecure: z.boolean(),
  username: z.string().nullable(),
  hasPassword: z.boolean(),
  /** A CA certificate of its own is kept for it (PEM). */
  hasCa: z.boolean(),
});
export type Registry = z.infer<typeof registrySchema>;

export const registryParams = z.object({ host: z.string().min(1).max(255).describe('host or host:port') });

export const putRegistryBodySchema = z.object({
  insecure: z.boolean().default(false),
  /** With a password: checked against the registry before they are kept (a wrong pair is refused: "login failed for HOST"). */
  username: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(4096).optional(),
  /** The registry's CA certificate (PEM); `""` drops the one kept. */
  ca: z
    .string()
    .max(64 * 1024)
    .optional(),
});
export type PutRegistryBody = z.infer<typeof putRegistryBodySchema>;

/** The name an imported root filesystem gets: its own, not a recipe's (busybox, debian-12) nor a pulled image's (`oci-…`). */
export const rootfsNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'lowercase letters, digits and -, starting with a letter, at most 40')
  .refine((n) => !(imageKinds as readonly string[]).includes(n) && !n.startsWith('oci-'), 'a name of its own (not a built image kind nor oci-…)')
  .describe('The image name machines are created from');

const sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
  .transform((s) => s.toLowerCase());

/** A root filesystem tarball (.tar, .tar.gz, .tar.xz, .tar.zst, .tar.bz2; known by its bytes) uploaded as the raw body. */
export const importRootfsQuerySchema = z.object({
  name: rootfsNameSchema,
  sha256: sha256Schema.optional().describe('The tarball must have this SHA-256, checked before anything is unpacked'),
  file: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^/\\\0]+$/, 'a file name, without a path')
    .optional()
    .describe('The tarball file name, kept as the image source'),
  allowSetuid: z.enum(['1', 'true']).optional().describe('Keep setuid/setgid files and file capabilities (refused otherwise)'),
});
export type ImportRootfsQuery = z.infer<typeof importRootfsQuerySchema>;

/** A root filesystem tarball downloaded by the server: a job (download with progress, the checksum, the checks, the unpack). */
export const importRootfsUrlBodySchema = z.object({
  url: z
    .string()
    .url()
    .max(2048)
    .refine((u) => /^https?:\/\//i.test(u), 'an http or https URL'),
  name: rootfsNameSchema,
  sha256: sha256Schema.optional(),
  allowSetuid: z.boolean().default(false),
});
export type ImportRootfsUrlBody = z.infer<typeof importRootfsUrlBodySchema>;

/** What a root filesystem import job returns. */
export const rootfsResultSchema = z.object({ image: z.string(), sha256: z.string(), entries: z.number(), sizeBytes: z.number(), compression: z.string() });
export type RootfsResult = z.infer<typeof rootfsResultSchema>;

/**
 * Internal: how an image another node holds boots (its boot.json) and whether it keeps a root
 * filesystem, asked by a node that will copy it: a create is checked against it at once and the
 * copy runs in its job, with progress.
 */
/** How to boot an image: written next to its files when it is built (boot.json); drivers take it as BootInfo. */
export const bootInfoSchema = z.object({
  /** Kernel command line of the image; the driver adds the per-machine parts. */
  append: z.string(),
  /** The guest runs sshd: the machine gets a key pair and a forwarded port. */
  ssh: z.boolean(),
  diskBytes: z.number(),
  /** A disk image: the guest boots its own kernel from the disk (BIOS or UEFI), not one Hangar passes. */
  ownKernel: z.boolean().optional(),
  /** The guest runs cloud-init: each machine gets a NoCloud seed (hostname, SSH keys, user-data). */
  cloudInit: z.boolean().optional(),
  /** A disk image's firmware, read off its partition table at import; a machine's own choice wins. */
  firmware: z.enum(['bios', 'uefi']).optional(),
});

export const imageBootSchema = z.object({
  boot: bootInfoSchema.nullable(),
  rootfs: z.boolean(),
});
export type ImageBoot = z.infer<typeof imageBootSchema>;
