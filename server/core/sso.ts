import * as oidc from 'openid-client';
import type { User } from '@/lib/contracts/auth';
import type { CreateSsoProviderBody, SignInOptions, SsoProvider, UpdateSsoProviderBody } from '@/lib/contracts/sso';
import { hasRole, type Role } from '@/lib/roles';
import type { Store } from '@/db/client';
import { deleteUserSessions } from '@/db/repo/sessions';
import {
  deleteSsoProvider,
  findUserBySubject,
  getSsoProviderRow,
  insertSsoProvider,
  insertSsoUser,
  listSsoProviderRows,
  toSsoProvider,
  updateSsoProvider,
  type SsoProviderRow,
} from '@/db/repo/sso';
import { findUserRowByUsername, getUserRow, toUser } from '@/db/repo/users';
import { eq } from 'drizzle-orm';
import type { AuthService, ClientMeta } from './auth';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from './errors';
import { newId } from './ids';
import type { SettingsService } from './settings';

/** A sign-in that cannot go on: shown on the login page. */
export class SsoError extends Error {}

interface Pending {
  providerId: string;
  verifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
  expiresAt: number;
}

const FLOW_TTL_MS = 10 * 60_000;
const isLoopbackUrl = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.hostname.startsWith('127.');

/**
 * Single sign-on with OpenID Connect (openid-client): the authorization code flow with PKCE,
 * state and nonce, each checked by the library on the way back. A person is found by the
 * provider and subject, made on first sign-in with the role their claim maps to (refused when
 * none does), and given the mapped role again at each sign-in (a change ends their sessions).
 */
export class SsoService {
  private readonly pending = new Map<string, Pending>();
  private readonly configs = new Map<string, { at: number; config: oidc.Configuration }>();

  constructor(
    private readonly store: Store,
    private readonly auth: AuthService,
    private readonly settings: SettingsService,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<SsoProvider[]> {
    return (await listSsoProviderRows(this.store)).map(toSsoProvider);
  }

  async options(): Promise<SignInOptions> {
    const providers = (await listSsoProviderRows(this.store)).filter((r) => r.enabled).map((r) => ({ id: r.id, name: r.name }));
    return { providers, localLogin: this.settings.get().localLogin };
  }

  async create(b: CreateSsoProviderBody): Promise<SsoProvider> {
    checkIssuer(b.issuer);
    const now = this.now();
    const row: SsoProviderRow = {
      id: newId('sso'),
      name: b.name,
      issuer: b.issuer,
      clientId: b.clientId,
      clientSecret: b.clientSecret,
      scopes: withOpenid(b.scopes),
      roleClaim: b.roleClaim,
      roleMapJson: JSON.stringify(b.roleMap),
      allowedDomainsJson: JSON.stringify(b.allowedDomains.map((d) => d.toLowerCase())),
      enabled: b.enabled,
      createdAt: now,
      updatedAt: now,
    };
    if ((await this.list()).some((p) => p.name === b.name)) throw new ConflictError(`A sign-in provider named "${b.name}" exists already.`);
    await insertSsoProvider(this.store, row);
    return toSsoProvider(row);
  }

  async update(id: string, b: UpdateSsoProviderBody): Promise<SsoProvider> {
    if (b.issuer) checkIssuer(b.issuer);
    const row = await updateSsoProvider(this.store, id, {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.issuer !== undefined ? { issuer: b.issuer } : {}),
      ...(b.clientId !== undefined ? { clientId: b.clientId } : {}),
      ...(b.clientSecret !== undefined ? { clientSecret: b.clientSecret } : {}),
      ...(b.scopes !== undefined ? { scopes: withOpenid(b.scopes) } : {}),
      ...(b.roleClaim !== undefined ? { roleClaim: b.roleClaim } : {}),
      ...(b.roleMap !== undefined ? { roleMapJson: JSON.stringify(b.roleMap) } : {}),
      ...(b.allowedDomains !== undefined ? { allowedDomainsJson: JSON.stringify(b.allowedDomains.map((d) => d.toLowerCase())) } : {}),
      ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
      updatedAt: this.now(),
    });
    if (!row) throw new NotFoundError('Sign-in provider');
    this.configs.delete(id);
    return toSsoProvider(row);
  }

  async remove(id: string): Promise<void> {
    if (!(await deleteSsoProvider(this.store, id))) throw new NotFoundError('Sign-in provider');
    this.configs.delete(id);
  }

  /** The provider's discovery document, fetched once an hour at most. */
  private async config(row: SsoProviderRow): Promise<oidc.Configuration> {
    const cached = this.configs.get(row.id);
    if (cached && this.now() - cached.at < 3600_000) return cached.config;
    const issuer = new URL(row.issuer);
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(issuer, row.clientId, undefined, oidc.ClientSecretBasic(row.clientSecret), {
        // Plain HTTP only to a provider on this host (tests, a local Keycloak): anything else must be HTTPS.
        ...(issuer.protocol === 'http:' && isLoopbackUrl(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 10,
      });
    } catch (e) {
      throw new SsoError(`${row.name} cannot be reached (${row.issuer}): ${(e as Error).message}`);
    }
    this.configs.set(row.id, { at: this.now(), config });
    return config;
  }

  /** The provider's authorization URL for a new flow, and the flow's id (kept in a cookie until the callback). */
  async start(providerId: string, redirectUri: string): Promise<{ url: string; flow: string }> {
    const row = await getSsoProviderRow(this.store, providerId);
    if (!row || !row.enabled) throw new SsoError('This sign-in provider is not set up.');
    const config = await this.config(row);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: row.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const now = this.now();
    for (const [k, p] of this.pending) if (p.expiresAt < now) this.pending.delete(k);
    const flow = oidc.randomState();
    this.pending.set(flow, { providerId, verifier, state, nonce, redirectUri, expiresAt: now + FLOW_TTL_MS });
    return { url: url.href, flow };
  }

  /** The provider sent the browser back: the code exchanged, the ID token checked (signature, issuer, audience, expiry, nonce), a session. */
  async finish(flow: string | undefined, callbackUrl: URL, meta: ClientMeta): Promise<{ secret: string; expiresAt: number; user: User }> {
    const p = flow ? this.pending.get(flow) : undefined;
    if (!p || p.expiresAt < this.now()) throw new SsoError('This sign-in was not started here or took too long: start again.');
    this.pending.delete(flow!);
    const row = await getSsoProviderRow(this.store, p.providerId);
    if (!row || !row.enabled) throw new SsoError('This sign-in provider is not set up.');
    const config = await this.config(row);
    const err = callbackUrl.searchParams.get('error');
    if (err) throw new SsoError(`${row.name} refused the sign-in: ${callbackUrl.searchParams.get('error_description') ?? err}`);
    // The library compares state, verifies the code with the PKCE verifier, and checks the ID token and its nonce.
    const current = new URL(p.redirectUri);
    current.search = callbackUrl.search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: p.verifier,
        expectedState: p.state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() as Record<string, unknown>) };
      if (claims[row.roleClaim] === undefined && config.serverMetadata().userinfo_endpoint)
        claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub))), ...claims };
    } catch (e) {
      // The library's message is generic ("invalid response encountered"); what failed is in its cause.
      const cause = (e as Error & { cause?: unknown }).cause;
      const why = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
      throw new SsoError(`The answer from ${row.name} did not check out: ${(e as Error).message}${why ? ` (${why})` : ''}`);
    }
    return this.signIn(toSsoProvider(row), claims, meta);
  }

  private async signIn(provider: SsoProvider, claims: Record<string, unknown>, meta: ClientMeta) {
    const subject = String(claims.sub ?? '');
    if (!subject) throw new SsoError('The provider named no subject.');
    if (provider.allowedDomains.length) {
      const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : '';
      const domain = email.split('@')[1] ?? '';
      if (claims.email_verified !== true || !provider.allowedDomains.includes(domain))
        throw new SsoError(`Only verified email addresses of ${provider.allowedDomains.join(', ')} may sign in here.`);
    }
    const role = mappedRole(provider, claims[provider.roleClaim]);
    if (!role) throw new SsoError(`Your account at ${provider.name} has no role here (its "${provider.roleClaim}" maps to none): ask an admin.`);
    let user = await findUserBySubject(this.store, provider.id, subject);
    if (user) {
      if (user.disabled) throw new SsoError('Your account here is disabled.');
      if (user.role !== role) {
        // The provider's word wins: a role taken away there ends every session here too.
        await this.store.db.update(this.store.t.users).set({ role, updatedAt: this.now() }).where(eq(this.store.t.users.id, user.id));
        await deleteUserSessions(this.store, user.id);
        this.auth.revoked({ userId: user.id, reason: `Your role changed to ${role} at ${provider.name}.` });
        user = (await getUserRow(this.store, user.id))!;
      }
    } else {
      user = await insertSsoUser(this.store, {
        id: newId('usr'),
        username: await this.freeUsername(claims),
        role,
        provider: provider.id,
        subject,
        now: this.now(),
      });
    }
    const s = await this.auth.startSession(user.id, meta);
    return { ...s, user: toUser(user) };
  }

  /** From preferred_username or the email's local part, made a valid username, with a number when taken. */
  private async freeUsername(claims: Record<string, unknown>): Promise<string> {
    const raw = String(claims.preferred_username ?? (typeof claims.email === 'string' ? claims.email.split('@')[0] : '') ?? '');
    let base = raw
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, '-')
      .replace(/^[^a-z]+/, '')
      .slice(0, 28);
    if (base.length < 2) base = `user-${base}`;
    for (let i = 1; i < 1000; i++) {
      const name = i === 1 ? base : `${base}-${i}`;
      if (!(await findUserRowByUsername(this.store, name))) return name;
    }
    throw new SsoError('No free username for this account.');
  }

  /** Password logins: refused when turned off, except for the break-glass admin. */
  checkLocalLogin(username: string): void {
    const s = this.settings.get();
    if (!s.localLogin && username !== s.breakGlassAdmin)
      throw new ForbiddenError('Password logins are turned off here: sign in with your organization (the buttons above).');
  }
}

function withOpenid(scopes: string): string {
  const list = scopes.split(' ').filter(Boolean);
  return (list.includes('openid') ? list : ['openid', ...list]).join(' ');
}

function checkIssuer(issuer: string): void {
  const u = new URL(issuer);
  if (u.protocol === 'http:' && !isLoopbackUrl(u)) throw new BadRequestError('The issuer must be an https:// URL (plain http:// only on loopback).');
}

/** The strongest role any of the claim's values maps to. */
export function mappedRole(p: Pick<SsoProvider, 'roleMap'>, value: unknown): Role | null {
  const values = Array.isArray(value) ? value.map(String) : value === undefined || value === null ? [] : [String(value)];
  let best: Role | null = null;
  for (const v of values) {
    const r = p.roleMap[v];
    if (r && (!best || hasRole(r, best))) best = r;
  }
  return best;
}
