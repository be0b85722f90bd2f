import { z } from 'zod';
import { roles } from '../roles';
import { idSchema, timestampSchema } from './common';

export const roleSchema = z.enum(roles);

export const userSchema = z.object({
  id: idSchema,
  username: z.string(),
  role: roleSchema,
  disabled: z.boolean(),
  createdAt: timestampSchema,
});
export type User = z.infer<typeof userSchema>;

export const loginBodySchema = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof loginBodySchema>;

export const meSchema = z.object({
  user: userSchema,
  /** The effective role of this request: a token's role may be lower than its user's. */
  role: roleSchema,
  via: z.enum(['session', 'token']),
});
export type Me = z.infer<typeof meSchema>;

export const apiTokenSchema = z.object({
  id: idSchema,
  name: z.string(),
  role: roleSchema,
  createdAt: timestampSchema,
  lastUsedAt: timestampSchema.nullable(),
  expiresAt: timestampSchema.nullable(),
});
export type ApiToken = z.infer<typeof apiTokenSchema>;

export const createTokenBodySchema = z.object({
  name: z.string().trim().min(1).max(64),
  role: roleSchema.optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateTokenBody = z.infer<typeof createTokenBodySchema>;

/** The secret is shown once, at creation; only its hash is stored. */
export const createdTokenSchema = z.object({ token: apiTokenSchema, secret: z.string() });
export type CreatedToken = z.infer<typeof createdTokenSchema>;
