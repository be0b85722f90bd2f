import { z } from 'zod';
import { roles } from '../roles';

/** What a user may hold at once; null: no limit. Memory and disk as configured on the machines (MiB, GiB). */
export const limitsSchema = z.object({
  machines: z.number().int().min(0).max(100_000).nullable(),
  vcpus: z.number().int().min(0).max(1_000_000).nullable(),
  memoryMib: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40)
    .nullable(),
  diskGib: z.number().int().min(0).max(10_000_000).nullable(),
});
export type Limits = z.infer<typeof limitsSchema>;
export type LimitKey = keyof Limits;
export const limitKeys = ['machines', 'vcpus', 'memoryMib', 'diskGib'] as const satisfies readonly LimitKey[];

/** How each limit is named to people (the 409's message, the UI). */
export const limitWords: Record<LimitKey, { name: string; unit: string }> = {
  machines: { name: 'machines', unit: '' },
  vcpus: { name: 'vCPUs', unit: '' },
  memoryMib: { name: 'memory', unit: ' MiB' },
  diskGib: { name: 'disk', unit: ' GiB' },
};

export const noLimits: Limits = { machines: null, vcpus: null, memoryMib: null, diskGib: null };

/** Defaults per role (Settings); a user's overrides (Users page) win key by key. */
export const roleLimitsSchema = z.object(Object.fromEntries(roles.map((r) => [r, limitsSchema])) as Record<(typeof roles)[number], typeof limitsSchema>);
export type RoleLimits = z.infer<typeof roleLimitsSchema>;
export const defaultRoleLimits: RoleLimits = { member: noLimits, viewer: noLimits, operator: noLimits, admin: noLimits };

/** A user's overrides: a key given replaces the role's value (null there: no limit for this user). */
export const limitOverridesSchema = limitsSchema.partial().strict();
export type LimitOverrides = z.infer<typeof limitOverridesSchema>;

export const usageSchema = z.object({ machines: z.number(), vcpus: z.number(), memoryMib: z.number(), diskGib: z.number() });
export type Usage = z.infer<typeof usageSchema>;

/** One user's limits as they apply, where each comes from, and what the user holds now. */
export const userLimitsSchema = z.object({
  userId: z.string(),
  username: z.string(),
  role: z.enum(roles),
  limits: limitsSchema,
  overrides: limitOverridesSchema,
  usage: usageSchema,
});
export type UserLimits = z.infer<typeof userLimitsSchema>;

export const putLimitsBodySchema = z.object({ overrides: limitOverridesSchema }).strict();
export type PutLimitsBody = z.infer<typeof putLimitsBodySchema>;
