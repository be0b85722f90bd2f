import { and, asc, eq, inArray, or } from 'drizzle-orm';
import type { SshKey } from '@/lib/contracts/ssh-keys';
import type { Store } from '../client';

type KeyRow = Store['t']['sshKeys']['$inferSelect'];

const toSshKey = (r: KeyRow): SshKey => ({
  id: r.id,
  name: r.name,
  type: r.type,
  bits: r.bits,
  fingerprint: r.fingerprint,
  publicKey: r.publicKey,
  createdAt: r.createdAt,
});

export async function listSshKeys(s: Store, userId: string): Promise<SshKey[]> {
  const rows = await s.db.select().from(s.t.sshKeys).where(eq(s.t.sshKeys.userId, userId)).orderBy(asc(s.t.sshKeys.createdAt), asc(s.t.sshKeys.id));
  return rows.map(toSshKey);
}

export async function findSshKeyByFingerprint(s: Store, userId: string, fingerprint: string): Promise<SshKey | undefined> {
  const [row] = await s.db
    .select()
    .from(s.t.sshKeys)
    .where(and(eq(s.t.sshKeys.userId, userId), eq(s.t.sshKeys.fingerprint, fingerprint)))
    .limit(1);
  return row ? toSshKey(row) : undefined;
}

export async function insertSshKey(s: Store, k: SshKey & { userId: string }): Promise<SshKey> {
  const [row] = await s.db.insert(s.t.sshKeys).values(k).returning();
  return toSshKey(row);
}

/** The removed key, or undefined when the user has none by that id. */
export async function deleteSshKey(s: Store, userId: string, id: string): Promise<SshKey | undefined> {
  const [row] = await s.db
    .delete(s.t.sshKeys)
    .where(and(eq(s.t.sshKeys.id, id), eq(s.t.sshKeys.userId, userId)))
    .returning();
  return row ? toSshKey(row) : undefined;
}

/**
 * The keys of everyone who may operate a machine: enabled users whose global role is operator or
 * admin, and enabled users given the machine as owner or operator. Each with its user's name.
 */
export async function keysOfOperators(s: Store, machineId: string): Promise<{ username: string; key: SshKey }[]> {
  const granted = s.db
    .select({ userId: s.t.machineGrants.userId })
    .from(s.t.machineGrants)
    .where(and(eq(s.t.machineGrants.machineId, machineId), inArray(s.t.machineGrants.role, ['owner', 'operator'])));
  const rows = await s.db
    .select({ key: s.t.sshKeys, username: s.t.users.username })
    .from(s.t.sshKeys)
    .innerJoin(s.t.users, eq(s.t.users.id, s.t.sshKeys.userId))
    .where(and(eq(s.t.users.disabled, false), or(inArray(s.t.users.role, ['operator', 'admin']), inArray(s.t.sshKeys.userId, granted))))
    .orderBy(asc(s.t.users.username), asc(s.t.sshKeys.createdAt));
  return rows.map((r) => ({ username: r.username, key: toSshKey(r.key) }));
}
