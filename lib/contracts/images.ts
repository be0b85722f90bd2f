import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/** Image recipes Hangar can build: a seconds-to-boot busybox, and Debian 12 with systemd and SSH. */
export const imageKinds = ['busybox', 'debian-12'] as const;
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
