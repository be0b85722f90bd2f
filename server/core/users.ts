import type { ChangePasswordBody, CreateUserBody, SessionInfo, UpdateUserBody, User } from '@/lib/contracts/auth';
import type { Role } from '@/lib/roles';
import type { Store } from '@/db/client';
import { deleteUserSessions, getSession, listSessions, deleteSession } from '@/db/repo/sessions';
import { countActiveAdmins, deleteUser, findUserRowByUsername, getUserRow, listUsers, toUser, updateUser } from '@/db/repo/users';
import type { AuthService, Principal } from './auth';
import { ConflictError, ForbiddenError, NotFoundError } from './errors';
import { generatePassword, hashPassword, verifyPassword } from './passwords';

/**
 * People: admins create, change, disable and delete users and reset their passwords; everyone
 * changes their own password and ends their own sessions. Whatever takes a user's access away
 * ends their sessions and open sockets at once. The last active admin cannot be demoted,
 * disabled or deleted (nobody could manage Hangar then).
 */
export class UserService {
  constructor(
    private readonly store: Store,
    private readonly auth: AuthService,
    private readonly now: () => number = Date.now,
  ) {}

  list(): Promise<User[]> {
    return listUsers(this.store);
  }

  private async row(id: string) {
    const row = await getUserRow(this.store, id);
    if (!row) throw new NotFoundError('User');
    return row;
  }

  async create(body: Required<Pick<CreateUserBody, 'username'>> & { role: Role; password?: string }): Promise<{ user: User; password?: string }> {
    if (await findUserRowByUsername(this.store, body.username)) throw new ConflictError(`A user named "${body.username}" exists already.`);
    const password = body.password ?? generatePassword();
    const user = await this.auth.createUser(body.username, password, body.role);
    return { user, ...(body.password ? {} : { password }) };
  }

  /** The last active admin keeps its role and stays enabled. */
  private async keepAnAdmin(row: { role: Role; disabled: boolean }, after: { role: Role; disabled: boolean }): Promise<void> {
    const wasActiveAdmin = row.role === 'admin' && !row.disabled;
    const staysActiveAdmin = after.role === 'admin' && !after.disabled;
    if (wasActiveAdmin && !staysActiveAdmin && (await countActiveAdmins(this.store)) <= 1)
      throw new ConflictError('This is the last active admin: make another admin first.');
  }

  async update(p: Principal, id: string, body: UpdateUserBody): Promise<User> {
    const row = await this.row(id);
    if (id === p.user.id && (body.disabled || (body.role && body.role !== row.role)))
      throw new ConflictError('Change your own role or disable yourself from another admin account.');
    const after = { role: body.role ?? row.role, disabled: body.disabled ?? row.disabled };
    await this.keepAnAdmin(row, after);
    await updateUser(this.store, id, after, this.now());
    // A disabled user is out at once; a new role applies to the next request (sockets re-check on attach).
    if (after.disabled && !row.disabled) await this.endSessions(id, 'Your account was disabled.');
    if (after.role !== row.role) this.auth.revoked({ userId: id, reason: `Your role changed to ${after.role}.`, consolesOnly: true });
    return toUser((await getUserRow(this.store, id))!);
  }

  async remove(p: Principal, id: string): Promise<void> {
    const row = await this.row(id);
    if (id === p.user.id) throw new ConflictError('Delete your own account from another admin account.');
    await this.keepAnAdmin(row, { role: 'viewer', disabled: true });
    // Sessions and tokens go with it (foreign keys); its machines stay, owned by nobody. Told after
    // the row is gone, so whoever listens (open sockets, the kept machine list) sees the result.
    await deleteUser(this.store, id);
    this.auth.revoked({ userId: id, reason: 'Your account was deleted.' });
  }

  /** An admin sets a new password (or Hangar makes one, returned once); the user's sessions end. */
  async resetPassword(id: string, password?: string): Promise<{ password?: string }> {
    await this.row(id);
    const pw = password ?? generatePassword();
    await updateUser(this.store, id, { passwordHash: await hashPassword(pw) }, this.now());
    await this.endSessions(id, 'Your password was reset.');
    return password ? {} : { password: pw };
  }

  /** Your own password: the current one first; your other sessions end, this one stays. */
  async changeOwnPassword(p: Principal, body: ChangePasswordBody): Promise<void> {
    const row = await this.row(p.user.id);
    if (!(await verifyPassword(body.current, row.passwordHash))) throw new ForbiddenError('The current password is wrong.');
    await updateUser(this.store, row.id, { passwordHash: await hashPassword(body.password) }, this.now());
    const others = (await listSessions(this.store, row.id)).filter((s) => s.id !== p.sessionId);
    await deleteUserSessions(this.store, row.id, p.sessionId);
    for (const s of others) this.auth.revoked({ userId: row.id, sessionId: s.id, reason: 'The password was changed.' });
  }

  async sessions(p: Principal): Promise<SessionInfo[]> {
    return (await listSessions(this.store, p.user.id)).map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      expiresAt: s.expiresAt,
      ip: s.ip,
      userAgent: s.userAgent,
      current: s.id === p.sessionId,
    }));
  }

  /** End one of your sessions (an admin may end anyone's). Same answer for "not yours" and "no such session". */
  async endSession(p: Principal, id: string): Promise<void> {
    const s = await getSession(this.store, id);
    if (!s || (s.userId !== p.user.id && p.role !== 'admin')) throw new NotFoundError('Session');
    await deleteSession(this.store, id);
    this.auth.revoked({ userId: s.userId, sessionId: id, reason: 'This session was ended.' });
  }

  private async endSessions(userId: string, reason: string): Promise<void> {
    await deleteUserSessions(this.store, userId);
    this.auth.revoked({ userId, reason });
  }
}
