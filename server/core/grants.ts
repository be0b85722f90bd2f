import type { Grant, GrantRole, PutGrantBody } from '@/lib/contracts/grants';
import { hasRole, type Role } from '@/lib/roles';
import type { Store } from '@/db/client';
import { deleteGrant, grantFor, grantsOf, grantsOfUser, putGrant } from '@/db/repo/grants';
import { findUserRowByUsername } from '@/db/repo/users';
import type { AuthService, Principal } from './auth';
import { ForbiddenError, machineNotFound, NotFoundError } from './errors';
import type { MachineService } from './machines';

/** What a grant lets its holder do, in global role terms: an owner operates (and may share and grant). */
const asRole: Record<GrantRole, Role> = { owner: 'operator', operator: 'operator', viewer: 'viewer' };

/**
 * Per-machine roles: a teammate given one machine to operate without an operator role over
 * all. A caller's role on a machine is the stronger of its global role and its grant there
 * (API tokens and share links are never raised by grants).
 */
export class GrantService {
  constructor(
    private readonly store: Store,
    private readonly machines: MachineService,
    private readonly auth: AuthService,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The caller's grant on this machine (by id or name); null when none. The machine must exist.
   * Sessions and full-strength API tokens act as their user; a token made weaker than its user,
   * and a share link, never gain from grants.
   */
  async grantOn(p: Principal, ref: string | { id: string }): Promise<GrantRole | null> {
    const m = typeof ref === 'string' ? await this.machines.get(p, ref) : ref;
    if (p.via === 'share' || (p.via === 'token' && p.role !== p.user.role)) return null;
    return (await grantFor(this.store, m.id, p.user.id))?.role ?? null;
  }

  /**
   * The caller's role on a machine already read (its id), and whether it was given one: the grant
   * read once, the machine not again (a console attach reads the machine's row itself).
   */
  async accessTo(p: Principal, machineId: string): Promise<{ role: Role; granted: boolean }> {
    const g = p.via === 'share' || (p.via === 'token' && p.role !== p.user.role) ? null : ((await grantFor(this.store, machineId, p.user.id))?.role ?? null);
    return { role: g && !hasRole(p.role, asRole[g]) ? asRole[g] : p.role, granted: g !== null };
  }

  /** The caller's role on a machine: the stronger of its global role and its grant there. */
  async roleOn(p: Principal, ref: string | { id: string }): Promise<Role> {
    const g = await this.grantOn(p, ref);
    return g && !hasRole(p.role, asRole[g]) ? asRole[g] : p.role;
  }

  /**
   * Let `p` act on a machine when its global role is at least `access` or, failing that, its
   * grant there is at least `need`. A member without a grant on it hears 404, as if it did not
   * exist; anyone else 403. The route guard and the bulk actions both decide here. The guard
   * passes the machine it loaded (null: there is none), so the row is not read again. `asked`: the name or id the
   * caller gave, which the 404 names (never the id of a machine they asked for by name).
   */
  async authorize(p: Principal, ref: string | { id: string } | null, access: Role, need: GrantRole, asked: string): Promise<void> {
    if (hasRole(p.role, access)) return;
    const grant = ref === null ? null : await this.grantOn(p, ref).catch(() => null);
    if (grantAtLeast(grant, need)) return;
    if (!grant && !hasRole(p.role, 'viewer')) throw machineNotFound(asked);
    throw new ForbiddenError(`This needs the ${access} role or the ${need} grant on this machine; you have ${p.role}.`);
  }

  /** The machines a caller may see: every one from viewer up; a member, those given to them. */
  async visible<M extends { id: string }>(p: Principal, all: M[]): Promise<M[]> {
    if (hasRole(p.role, 'viewer')) return all;
    const mine = new Set((await grantsOfUser(this.store, p.user.id)).map((g) => g.machineId));
    return all.filter((m) => mine.has(m.id));
  }

  /** Machine ids a user was given (the events socket puts a member in their rooms). */
  async machineIdsOf(userId: string): Promise<string[]> {
    return (await grantsOfUser(this.store, userId)).map((g) => g.machineId);
  }

  async list(p: Principal, ref: string): Promise<Grant[]> {
    const m = await this.machines.get(p, ref);
    return (await grantsOf(this.store, m.id)).map(({ grant, username }) => ({ userId: grant.userId, username, role: grant.role, createdAt: grant.createdAt }));
  }

  async put(p: Principal, ref: string, body: PutGrantBody): Promise<Grant> {
    const m = await this.machines.get(p, ref);
    const user = await findUserRowByUsername(this.store, body.username);
    if (!user) throw new NotFoundError(`User "${body.username}"`);
    const createdAt = this.now();
    await putGrant(this.store, { machineId: m.id, userId: user.id, role: body.role, createdBy: p.user.id, createdAt });
    // Their sockets reconnect with what they may now see and do (a console's mode is fixed on attach).
    this.auth.revoked({ userId: user.id, reason: `You are now ${body.role} of ${m.name}.` });
    return { userId: user.id, username: user.username, role: body.role, createdAt };
  }

  async remove(p: Principal, ref: string, userId: string): Promise<void> {
    const m = await this.machines.get(p, ref);
    if (!(await deleteGrant(this.store, m.id, userId))) throw new NotFoundError('Grant');
    this.auth.revoked({ userId, reason: `Your access to ${m.name} was taken away.` });
  }
}

const rank: Record<GrantRole, number> = { viewer: 1, operator: 2, owner: 3 };
/** True when grant `have` is at least `need`. */
const grantAtLeast = (have: GrantRole | null, need: GrantRole): boolean => !!have && rank[have] >= rank[need];
