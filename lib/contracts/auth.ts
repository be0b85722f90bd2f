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
  via: z.enum(['session', 'token', 'share']),
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

/** Usernames: what people type at the login form; also safe in logs and URLs. */
export const usernameSchema = z.string().regex(/^[a-z][a-z0-9._-]{1,31}$/, 'a username: 2-32 of a-z 0-9 . _ -, starting with a letter');
/** Long enough to resist guessing at the login's rate limit; no upper rules beyond length. */
export const passwordSchema = z.string().min(10, 'at least 10 characters').max(1024);

export const createUserBodySchema = z.object({
  username: usernameSchema,
  role: roleSchema.default('viewer'),
  /** Omitted: one is generated and returned once. */
  password: passwordSchema.optional(),
});
export type CreateUserBody = z.input<typeof createUserBodySchema>;

export const updateUserBodySchema = z
  .object({ role: roleSchema.optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, { message: 'give role or disabled', path: ['role'] });
export type UpdateUserBody = z.input<typeof updateUserBodySchema>;

export const resetPasswordBodySchema = z.object({ password: passwordSchema.optional() });
export const changePasswordBodySchema = z.object({ current: z.string().min(1).max(1024), password: passwordSchema });
export type ChangePasswordBody = z.infer<typeof changePasswordBodySchema>;

/** A user with, when Hangar made it, the password to hand over (shown once). */
export const userWithPasswordSchema = z.object({ user: userSchema, password: z.string().optional() });

export const sessionInfoSchema = z.object({
  id: idSchema,
  createdAt: timestampSchema,
  lastSeenAt: timestampSchema,
  expiresAt: timestampSchema,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  /** The session this request came with. */
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

/** `hangar login --browser`: the browser's yes to a CLI, bound to the SHA-256 of a verifier the CLI keeps (PKCE S256). */
export const cliLoginBodySchema = z.object({
  challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'base64url SHA-256 of the verifier (43 characters)'),
  name: z.string().trim().min(1).max(64).describe('The token name, e.g. cli@laptop'),
});
export const cliLoginCodeSchema = z.object({ code: z.string(), expiresAt: timestampSchema });
export const cliTokenBodySchema = z.object({
  code: z.string().min(1).max(200),
  verifier: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/, 'the verifier the challenge was made from'),
});
