import { and, eq } from 'drizzle-orm';
import type { SsoProvider } from '@/lib/contracts/sso';
import type { Store } from '../client';

export type SsoProviderRow = Store['t']['signInProviders']['$inferSelect'];

export function toSsoProvider(r: SsoProviderRow): SsoProvider {
  return {
    id: r.id,
    name: r.name,
    issuer: r.issuer,
    clientId: r.clientId,
    scopes: r.scopes,
    roleClaim: r.roleClaim,
    roleMap: JSON.parse(r.roleMapJson),
    allowedDomains: JSON.parse(r.allowedDomainsJson),
    enabled: r.enabled,
    createdAt: r.createdAt,
  };
}

export async function listSsoProviderRows(s: Store): Promise<SsoProviderRow[]> {
  return s.db.select().from(s.t.signInProviders).orderBy(s.t.signInProviders.name);
}

export async function getSsoProviderRow(s: Store, id: string): Promise<SsoProviderRow | undefined> {
  const [row] = await s.db.select().from(s.t.signInProviders).where(eq(s.t.signInProviders.id, id)).limit(1);
  return row;
}

export async function insertSsoProvider(s: Store, row: SsoProviderRow): Promise<void> {
  await s.db.insert(s.t.signInProviders).values(row);
}

export async function updateSsoProvider(s: Store, id: string, patch: Partial<SsoProviderRow>): Promise<SsoProviderRow | undefined> {
  const [row] = await s.db.update(s.t.signInProviders).set(patch).where(eq(s.t.signInProviders.id, id)).returning();
  return row;
}

export async function deleteSsoProvider(s: Store, id: string): Promise<boolean> {
  return (await s.db.delete(s.t.signInProviders).where(eq(s.t.signInProviders.id, id)).returning({ id: s.t.signInProviders.id })).length > 0;
}

export async function findUserBySubject(s: Store, provider: string, subject: string) {
  const [row] = await s.db
    .select()
    .from(s.t.users)
    .where(and(eq(s.t.users.oidcProvider, provider), eq(s.t.users.oidcSubject, subject)))
    .limit(1);
  return row;
}

export async function insertSsoUser(
  s: Store,
  u: { id: string; username: string; role: SsoProvider['roleMap'][string]; provider: string; subject: string; now: number },
) {
  // No password: '!' is no scrypt hash, so a password never matches it.
  const [row] = await s.db
    .insert(s.t.users)
    .values({
      id: u.id,
      username: u.username,
      passwordHash: '!sso',
      role: u.role,
      disabled: false,
      oidcProvider: u.provider,
      oidcSubject: u.subject,
      createdAt: u.now,
      updatedAt: u.now,
    })
    .returning();
  return row;
}
