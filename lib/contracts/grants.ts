import { z } from 'zod';
import { usernameSchema } from './auth';
import { idSchema, timestampSchema } from './common';
import { roles } from '../roles';

/** A user's role on one machine: owner (also shares and grants it), operator, viewer. */
export const grantRoleSchema = z.enum(['owner', 'operator', 'viewer']);
export type GrantRole = z.infer<typeof grantRoleSchema>;

export const grantSchema = z.object({ userId: idSchema, username: z.string(), role: grantRoleSchema, createdAt: timestampSchema });
export type Grant = z.infer<typeof grantSchema>;

export const putGrantBodySchema = z.object({ username: usernameSchema, role: grantRoleSchema });
export type PutGrantBody = z.infer<typeof putGrantBodySchema>;

/** The caller's standing on one machine: its effective role there, and its grant if any. */
export const machineAccessSchema = z.object({ role: z.enum(roles), global: z.enum(roles), grant: grantRoleSchema.nullable() });
export type MachineAccess = z.infer<typeof machineAccessSchema>;
