import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** People at the test provider: what each one's ID token says. Change them between sign-ins (a role taken away). */
export type TestAccounts = Record<string, { email: string; email_verified: boolean; preferred_username?: string; groups: string[] }>;

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: TestAccounts;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1: one confidential client
 * whose redirect URIs are Hangar's callbacks, PKCE required, and its development interactions
 * (a login form taking any account name, then a consent form), which a test drives over HTTP
 * and Chromium through its pages.
 */
export async function startTestProvider(redirectUris: string[], accounts: TestAccounts): Promise<TestProvider> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'hangar-test';
  const clientSecret = 'hangar-test-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, response_types: ['code'], grant_types: ['authorization_code'] }],
    findAccount: async (_ctx, sub) =>
      accounts[sub] ? { accountId: sub, claims: async () => ({ sub, preferred_username: sub, ...accounts[sub] }) } : undefined,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Scope claims in the ID token itself (as many providers put groups there).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['hangar-test-cookie-key'] },
  });
  // Quiet: the provider logs its dev-interaction warning once.
  provider.on('server_error', () => undefined);
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A browser's cookies, one jar per origin (enough for two servers on one host). */
class Jar {
  private readonly byOrigin = new Map<string, Map<string, string>>();
  header(url: URL): string {
    return [...(this.byOrigin.get(url.origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(url: URL, res: Response): void {
    const jar = this.byOrigin.get(url.origin) ?? new Map<string, string>();
    this.byOrigin.set(url.origin, jar);
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const [k, v] = [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
      if (!v || attrs.some((a) => /max-age=0/i.test(a.trim()))) jar.delete(k);
      else jar.set(k, v);
    }
  }
  get(origin: string, name: string): string | undefined {
    return this.byOrigin.get(origin)?.get(name);
  }
}

export interface SignInResult {
  /** Where Hangar sent the browser at the end: '/' signed in, '/login?sso_error=...' refused. */
  landed: string;
  error: string | null;
  session: string | undefined;
  /** The callback URL the provider sent the browser to (a test replays it tampered). */
  callback: string | null;
  jar: Jar;
}

/**
 * A browser's sign-in, over HTTP: Hangar's start, the provider's login and consent forms, the
 * callback. `tamper` may change the callback URL before the browser follows it.
 */
export async function signInOverHttp(hangarUrl: string, providerId: string, login: string, tamper?: (u: URL) => URL): Promise<SignInResult> {
  const jar = new Jar();
  let url = new URL(`${hangarUrl}/sso/${providerId}/start`);
  let method = 'GET';
  let body: string | undefined;
  let callback: string | null = null;
  for (let hops = 0; hops < 20; hops++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(url), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    jar.take(url, res);
    method = 'GET';
    body = undefined;
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      let next = new URL(loc, url);
      if (next.pathname === '/sso/callback') {
        callback = next.href;
        if (tamper) next = tamper(next);
      }
      if (next.origin === new URL(hangarUrl).origin && !next.pathname.startsWith('/sso/')) {
        return {
          landed: next.pathname + next.search,
          error: next.searchParams.get('sso_error'),
          session: jar.get(new URL(hangarUrl).origin, 'hangar_session'),
          callback,
          jar,
        };
      }
      url = next;
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (res.status !== 200 || !prompt) throw new Error(`unexpected answer from ${url.href}: ${res.status} ${html.slice(0, 300)}`);
    method = 'POST';
    body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt }).toString();
  }
  throw new Error('too many redirects');
}
