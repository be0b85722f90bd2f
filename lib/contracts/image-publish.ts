import { z } from 'zod';

/** A published image's version: lowercase, digits and `.`, `_`, `-` (a path part of its object keys). */
export const imageVersionSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'lowercase letters, digits, ., _ and -, at most 40')
  .refine((v) => v !== 'latest', '"latest" names the newest version; choose another');

const imageNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an image name');

export const publishImageBodySchema = z.object({
  /** A backup target (Settings → Backups) by name or id: the image goes under `images/NAME/VERSION/` there. */
  target: z.string().min(1).max(100),
  /** Default: the time of publishing (`20261204-002133`). */
  version: imageVersionSchema.optional(),
});
export type PublishImageBody = z.infer<typeof publishImageBodySchema>;

export const pullPublishedBodySchema = z.object({
  /** A backup target by name or id, or the https:// (or http://) base URL a target is served under. */
  source: z.string().min(1).max(1000),
  image: imageNameSchema,
  /** Default: the newest (the `latest` object the publisher wrote). */
  version: imageVersionSchema.optional(),
  /** The name it gets here; default: its published name. */
  as: imageNameSchema.optional(),
});
export type PullPublishedBody = z.infer<typeof pullPublishedBodySchema>;

/** The manifest of a published image: signed (Ed25519) by the publishing Hangar; the artifact's SHA-256 and size in it. */
export const publishedManifestSchema = z.object({
  format: z.literal('hangar-image/1'),
  name: imageNameSchema,
  version: imageVersionSchema,
  kind: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
  recipe: z.record(z.string(), z.unknown()),
  artifact: z.object({
    key: z.string().max(300),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sizeBytes: z.number().int().positive(),
    /** What it unpacks to (the image's size). */
    unpackedBytes: z.number().int().nonnegative(),
  }),
  createdAt: z.number().int().nonnegative(),
  /** The publisher's Ed25519 public key (raw 32 bytes, base64): a puller trusts it or refuses. */
  publisher: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
});
export type PublishedManifest = z.infer<typeof publishedManifestSchema>;

export const publishResultSchema = z.object({
  image: z.string(),
  version: z.string(),
  target: z.string(),
  sha256: z.string(),
  sizeBytes: z.number(),
  manifestKey: z.string(),
});
export type PublishResult = z.infer<typeof publishResultSchema>;

export const pullPublishedResultSchema = z.object({ image: z.string(), version: z.string(), sha256: z.string(), sizeBytes: z.number(), publisher: z.string() });
export type PullPublishedResult = z.infer<typeof pullPublishedResultSchema>;

/** This Hangar's publishing key: give `publicKey` to the Hangars that pull its images (their Settings → trusted publishers). */
export const signingKeySchema = z.object({ publicKey: z.string(), fingerprint: z.string() });
export type SigningKey = z.infer<typeof signingKeySchema>;

export const publishedImageSchema = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.string(),
  sizeBytes: z.number(),
  createdAt: z.number(),
  publisher: z.string(),
});
