import { createHash } from 'node:crypto';
import type { ApiToken, CreateTokenBody, CreatedToken, User } from '@/lib/contracts/auth';
import { hasRole, minRole, type Role } from '@/lib/roles';
import type { Store } from '@/db/client';
import { countUsers, findUserRowByUsername, getUser, insertUser, toUser } from '@/db/repo/users';
import { deleteExpiredSessions, deleteSession, findSessionByHash, insertSession, touchSession } from '@/db/repo/sessions';
import { findTokenByHash, insertToken, listTokens, revokeToken, touchToken } from '@/db/repo/tokens';
import { findShareByHash, touchShare } from '@/db/repo/shares';
import { newId, newSecret } from './ids';
import { dummyPasswordHash, generatePassword, hashPassword, verifyPassword } from './passwords';
import { ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError } from './errors';
import { LoginThrottle } from './login-throttle';

export const SESSION_COOKIE = 'hangar_session';
export const TOKEN_PREFIX = 'hgr_';
export const SHARE_PREFIX = 'hgs_';
const SESSION_TTL_MS = 7 * 24 * 3600_000;
/** Sliding expiry is written at most this often, so reads do not turn into writes. */
const TOUCH_EVERY_MS = 60_000;
/**
 * An API token's caller is kept this long between database reads: scripts and dashboards send
 * thousands of requests a second with one token, and its lookup was a third of each request's
 * cost. Anything that takes access away in this process (a token revoked, a user disabled,
 * deleted or given another role, a grant changed) drops every kept caller at once; the time
 * only bounds changes made to the database from outside (another process).
 */
const TOKEN_KEEP_MS = 1000;
const TOKEN_KEEP_MAX = 1000;

/** Who is calling: resolved once per request or socket by the transport layer. */
export interface Principal {
  user: User;
  /** Effective role: a token's role never exceeds its user's. */
  role: Role;
  via: 'session' | 'token' | 'share';
  sessionId?: string;
  tokenId?: string;
  /**
   * A share link: it opens one machine's console, nothing else; a recording link (`recordingId`)
   * opens one recording of that machine (its cast and markers) and not even the console.
   */
  share?: { id: string; machineId: string; expiresAt: number; recordingId: string | null };
  /** Forwarded by another node of the cluster, which vouched for the caller by its signature: that node and the client's address. */
  forwarded?: { by: string; ip: string | null };
}

/** A forwarded request's signed headers, with the request they cover. */
export interface ForwardedCreds {
  node: string;
  principal: string;
  method: string;
  path: string;
  header(name: string): string | undefined;
}

export interface ClientMeta {
  ip: string | null;
  userAgent: string | null;
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** What was revoked: every session and socket of a user, or one session. */
export type Revocation = {
  userId?: string;
  sessionId?: string;
  shareId?: string;
  reason: string;
  consolesOnly?: boolean;
  /** Heard from another node of the cluster (its sockets here close; it is not sent on again). */
  relayed?: boolean;
};

export class AuthService {
  /** Told when sessions end early (logout, revoke, password change, user disabled): open sockets close. */
  private readonly revokeListeners = new Set<(r: Revocation) => void>();
  /** Callers of API tokens by the token's hash, and a count of revocations (a lookup that raced one is not kept). */
  private readonly tokenCallers = new Map<string, { principal: Principal; expiresAt: number | null; lastUsedAt: number | null; at: number }>();
  private revocations = 0;
  /** Users of forwarded requests, kept as briefly as token callers (a disabled user is refused within a second). */
  private readonly forwardedUsers = new Map<string, { user: User | undefined; at: number }>();
  /** The calling node when a forwarded request's signature is valid, fresh and unused (set in a cluster: Cluster.verify). */
  verifyForwarded: (req: ForwardedCreds) => Promise<string | null> = async () => null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    private readonly throttle = new LoginThrottle(undefined, now),
  ) {}

  onRevoke(fn: (r: Revocation) => void): () => void {
    this.revokeListeners.add(fn);
    return () => this.revokeListeners.delete(fn);
  }

  revoked(r: Revocation): void {
    this.forgetTokenCallers();
    for (const fn of this.revokeListeners) fn(r);
  }

  /** First run: create the admin account. Returns the generated password, to be shown once. */
  async ensureAdmin(password?: string): Promise<{ created: boolean; username: string; password?: string }> {
    if ((await countUsers(this.store)) > 0) return { created: false, username: 'admin' };
    const pw = password || generatePassword();
    await insertUser(this.store, { id: newId('usr'), username: 'admin', passwordHash: await hashPassword(pw), role: 'admin', now: this.now() });
    return { created: true, username: 'admin', password: password ? undefined : pw };
  }

  async createUser(username: string, password: string, role: Role): Promise<User> {
    return insertUser(this.store, { id: newId('usr'), username, passwordHash: await hashPassword(password), role, now: this.now() });
  }

  /** Returns the session secret for the cookie. Same error and similar timing for unknown user and bad password. */
  async login(username: string, password: string, meta: ClientMeta): Promise<{ secret: string; user: User; expiresAt: number }> {
    // Locked before the password is even checked: a guesser learns nothing while locked out.
    const wait = this.throttle.retryAfterMs(username, meta.ip);
    if (wait > 0) throw new RateLimitedError(`Too many failed logins: try again in ${Math.ceil(wait / 1000)} s.`, Math.ceil(wait / 1000));
    const row = await findUserRowByUsername(this.store, username);
    const ok = await verifyPassword(password, row?.passwordHash ?? (await dummyPasswordHash()));
    if (!row || !ok || row.disabled) {
      this.throttle.fail(username, meta.ip);
      throw new UnauthorizedError('Wrong username or password.');
    }
    this.throttle.succeed(username);
    const secret = newSecret();
    const now = this.now();
    const expiresAt = now + SESSION_TTL_MS;
    // Logins are rare and a good moment to drop sessions that expired (they would pile up forever).
    await deleteExpiredSessions(this.store, now);
    await insertSession(this.store, { id: newId('ses'), userId: row.id, tokenHash: hashSecret(secret), now, expiresAt, ...meta });
    return { secret, user: toUser(row), expiresAt };
  }

  /** A session for a user who proved who they are elsewhere (single sign-on). */
  async startSession(userId: string, meta: ClientMeta): Promise<{ secret: string; expiresAt: number }> {
    const secret = newSecret();
    const now = this.now();
    const expiresAt = now + SESSION_TTL_MS;
    await deleteExpiredSessions(this.store, now);
    await insertSession(this.store, { id: newId('ses'), userId, tokenHash: hashSecret(secret), now, expiresAt, ...meta });
    return { secret, expiresAt };
  }

  async logout(p: Principal): Promise<void> {
    if (!p.sessionId) return;
    await deleteSession(this.store, p.sessionId);
    this.revoked({ userId: p.user.id, sessionId: p.sessionId, reason: 'Logged out.' });
  }

  /** Resolve a cookie secret or bearer token. Null when missing, unknown, expired, revoked or disabled. */
  async authenticate(creds: {
    session?: string | null;
    bearer?: string | null;
    share?: string | null;
    forwarded?: ForwardedCreds | null;
  }): Promise<Principal | null> {
    const now = this.now();
    // Another node's word for the caller: only with its valid signature, never a fallback to the other credentials.
    if (creds.forwarded) return this.fromForwarded(creds.forwarded, now);
    if (creds.share) {
      if (!creds.share.startsWith(SHARE_PREFIX)) return null;
      const link = await findShareByHash(this.store, hashSecret(creds.share));
      if (!link || link.revokedAt != null || link.expiresAt <= now) return null;
      if (link.lastUsedAt == null || now - link.lastUsedAt > TOUCH_EVERY_MS) await touchShare(this.store, link.id, now);
      const role: Role = link.role === 'operator' ? 'operator' : 'viewer';
      // Not a user: a stand-in with the link's id, so audit entries and console sessions name the link.
      const user: User = { id: link.id, username: link.label ? `link "${link.label}"` : 'share link', role, disabled: false, createdAt: link.createdAt };
      return { user, role, via: 'share', share: { id: link.id, machineId: link.machineId, expiresAt: link.expiresAt, recordingId: link.recordingId ?? null } };
    }
    if (creds.bearer) {
      if (!creds.bearer.startsWith(TOKEN_PREFIX)) return null;
      const hash = hashSecret(creds.bearer);
      const kept = this.tokenCallers.get(hash);
      if (kept && now - kept.at < TOKEN_KEEP_MS && (kept.expiresAt == null || kept.expiresAt > now)) {
        if (kept.lastUsedAt == null || now - kept.lastUsedAt > TOUCH_EVERY_MS) {
          kept.lastUsedAt = now;
          await touchToken(this.store, kept.principal.tokenId!, now);
        }
        return kept.principal;
      }
      const seen = this.revocations;
      const found = await findTokenByHash(this.store, hash);
      if (!found || found.user.disabled) return null;
      if (found.token.expiresAt != null && found.token.expiresAt <= now) return null;
      const touch = found.token.lastUsedAt == null || now - found.token.lastUsedAt > TOUCH_EVERY_MS;
      if (touch) await touchToken(this.store, found.token.id, now);
      const principal: Principal = { user: found.user, role: minRole(found.token.role, found.user.role), via: 'token', tokenId: found.token.id };
      if (seen === this.revocations) {
        if (this.tokenCallers.size >= TOKEN_KEEP_MAX) this.tokenCallers.clear();
        this.tokenCallers.set(hash, { principal, expiresAt: found.token.expiresAt, lastUsedAt: touch ? now : found.token.lastUsedAt, at: now });
      }
      return principal;
    }
    if (creds.session) {
      const found = await findSessionByHash(this.store, hashSecret(creds.session));
      if (!found || found.user.disabled || found.session.expiresAt <= now) return null;
      if (now - found.session.lastSeenAt > TOUCH_EVERY_MS) await touchSession(this.store, found.session.id, now, now + SESSION_TTL_MS);
      return { user: found.user, role: found.user.role, via: 'session', sessionId: found.session.id };
    }
    return null;
  }

  private async fromForwarded(creds: ForwardedCreds, now: number): Promise<Principal | null> {
    const node = await this.verifyForwarded(creds);
    const f = node ? decodeForwarded(creds.principal) : null;
    if (!node || !f) return null;
    const forwarded = { by: node, ip: f.ip ?? null };
    if (f.via === 'share') {
      if (!f.share || !f.shareUser || f.share.expiresAt <= now) return null;
      const role: Role = f.role === 'operator' ? 'operator' : 'viewer';
      return { user: f.shareUser, role, via: 'share', share: f.share, forwarded };
    }
    let kept = this.forwardedUsers.get(f.userId);
    if (!kept || now - kept.at >= TOKEN_KEEP_MS) {
      if (this.forwardedUsers.size >= TOKEN_KEEP_MAX) this.forwardedUsers.clear();
      kept = { user: await getUser(this.store, f.userId), at: now };
      this.forwardedUsers.set(f.userId, kept);
    }
    const user = kept.user;
    if (!user || user.disabled) return null;
    return {
      user,
      role: minRole(f.role, user.role),
      via: f.via,
      ...(f.sessionId ? { sessionId: f.sessionId } : {}),
      ...(f.tokenId ? { tokenId: f.tokenId } : {}),
      forwarded,
    };
  }

  async createToken(p: Principal, body: CreateTokenBody): Promise<CreatedToken> {
    const role = body.role ?? p.role;
    if (!hasRole(p.role, role)) throw new ForbiddenError(`A token cannot have a stronger role (${role}) than yours (${p.role}).`);
    const secret = newSecret(TOKEN_PREFIX);
    const now = this.now();
    const token = await insertToken(this.store, {
      id: newId('tok'),
      userId: p.user.id,
      name: body.name,
      tokenHash: hashSecret(secret),
      role,
      now,
      expiresAt: body.expiresInDays ? now + body.expiresInDays * 86400_000 : null,
    });
    return { token, secret };
  }

  listTokens(p: Principal): Promise<ApiToken[]> {
    return listTokens(this.store, p.user.id);
  }

  async revokeToken(p: Principal, id: string): Promise<void> {
    const done = await revokeToken(this.store, p.user.id, id, this.now());
    this.forgetTokenCallers();
    if (!done) throw new NotFoundError('API token');
  }

  /** Every kept token caller goes: the next request of each reads its token again. */
  private forgetTokenCallers(): void {
    this.revocations++;
    this.tokenCallers.clear();
    this.forwardedUsers.clear();
  }
}

/** What a node signs of the user it acts for: enough for the owner to rebuild the principal (the user row is read again there). */
export interface ForwardedPrincipal {
  userId: string;
  role: Role;
  via: Principal['via'];
  sessionId?: string;
  tokenId?: string;
  share?: Principal['share'];
  /** A share link's stand-in user (not a row in users). */
  shareUser?: Principal['user'];
  /** The client's address as the first node saw it (audit). */
  ip: string | null;
}

/** The signed principal of a forwarded request (x-hangar-forwarded), or null when it is not one. */
export function decodeForwarded(header: string): ForwardedPrincipal | null {
  try {
    const f = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as ForwardedPrincipal;
    return typeof f.userId === 'string' && typeof f.role === 'string' && typeof f.via === 'string' ? f : null;
  } catch {
    return null;
  }
}
