import { z } from 'zod';
import { roles } from '../roles';

/** An OpenID Connect provider as the API shows it: never its client secret. */
export const ssoProviderSchema = z.object({
  id: z.string(),
  name: z.string(),
  issuer: z.string(),
  clientId: z.string(),
  scopes: z.string(),
  /** The claim whose value (a string or a list, such as `groups`) maps to a role. */
  roleClaim: z.string(),
  /** Claim value -> role; a person gets the strongest role any of their values maps to, and is refused when none does. */
  roleMap: z.record(z.string(), z.enum(roles)),
  /** Only people whose verified email is in one of these domains; empty: anyone the provider vouches for. */
  allowedDomains: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.number(),
});
export type SsoProvider = z.infer<typeof ssoProviderSchema>;

const issuerUrl = z
  .string()
  .max(500)
  .regex(/^https?:\/\/[^\s'"\\]+$/, 'an https:// URL (http:// only on loopback)');
const domain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a domain such as example.com');

export const createSsoProviderBodySchema = z
  .object({
    name: z.string().min(1).max(40),
    issuer: issuerUrl,
    clientId: z.string().min(1).max(255),
    clientSecret: z.string().min(1).max(1024),
    scopes: z
      .string()
      .max(500)
      .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'scopes separated by spaces')
      .default('openid email profile'),
    roleClaim: z.string().min(1).max(100).default('groups'),
    roleMap: z.record(z.string().min(1).max(200), z.enum(roles)).refine((m) => Object.keys(m).length > 0, 'map at least one claim value to a role'),
    allowedDomains: z.array(domain).max(50).default([]),
    enabled: z.boolean().default(true),
  })
  .strict();
export type CreateSsoProviderBody = z.infer<typeof createSsoProviderBodySchema>;
/** Every field optional; a clientSecret given replaces the stored one (it is never shown back). */
export const updateSsoProviderBodySchema = createSsoProviderBodySchema.partial().strict();
export type UpdateSsoProviderBody = z.infer<typeof updateSsoProviderBodySchema>;

/** What the login page needs: the buttons, and whether the password form is on. */
export const signInOptionsSchema = z.object({
  providers: z.array(z.object({ id: z.string(), name: z.string() })),
  localLogin: z.boolean(),
});
export type SignInOptions = z.infer<typeof signInOptionsSchema>;
