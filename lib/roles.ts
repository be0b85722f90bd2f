/**
 * Global roles, weakest first. A member sees only the machines given to them (grants); a viewer
 * sees everything; an operator runs machines; an admin also manages users and settings.
 */
export const roles = ['member', 'viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

const rank: Record<Role, number> = { member: 0, viewer: 1, operator: 2, admin: 3 };

/** True when `have` is at least as strong as `need`. */
export function hasRole(have: Role, need: Role): boolean {
  return rank[have] >= rank[need];
}

/** The weaker of two roles: an API token never exceeds its user's role. */
export function minRole(a: Role, b: Role): Role {
  return rank[a] <= rank[b] ? a : b;
}
