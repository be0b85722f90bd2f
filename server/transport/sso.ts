import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SESSION_COOKIE } from '@/server/core/auth';
import type { Core } from '@/server/core/hangar';
import { SsoError } from '@/server/core/sso';
import { safeNext } from '@/lib/safe-next';
import { readCookie } from './credentials';

const FLOW_COOKIE = 'hangar_sso';
/** The page to land on after the sign-in (a same-site path only: see safeNext). */
const NEXT_COOKIE = 'hangar_sso_next';

/** The browser's single sign-on: /sso/{provider}/start sends it to the provider, /sso/callback brings it back. Redirects, not API answers. */
export function isSsoPath(url: string): boolean {
  return url.startsWith('/sso/');
}

function origin(req: http.IncomingMessage): string | null {
  const host = req.headers.host ?? '';
  if (!/^[A-Za-z0-9.:[\]-]{1,260}$/.test(host)) return null;
  return `${(req.socket as TLSSocket).encrypted ? 'https' : 'http'}://${host}`;
}

/** The kept path, or '/' when there is none or it does not decode (safeNext checks the rest). */
function decodeNext(raw: string | null | undefined): string {
  try {
    return raw ? decodeURIComponent(raw) : '/';
  } catch {
    return '/';
  }
}

function redirect(res: http.ServerResponse, to: string, cookies: string[] = []): void {
  res.writeHead(302, { Location: to, 'Cache-Control': 'no-store', ...(cookies.length ? { 'Set-Cookie': cookies } : {}) }).end();
}

const toLogin = (res: http.ServerResponse, message: string, clear = true) =>
  redirect(
    res,
    `/login?sso_error=${encodeURIComponent(message.slice(0, 300))}`,
    clear ? [`${FLOW_COOKIE}=; Path=/sso; HttpOnly; SameSite=Lax; Max-Age=0`] : [],
  );

export async function serveSso(core: Core, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const base = origin(req);
  if (req.method !== 'GET' || !base) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad request');
  const url = new URL(req.url ?? '/', base);
  const secure = base.startsWith('https:') ? '; Secure' : '';
  const meta = { ip: req.socket.remoteAddress ?? null, userAgent: req.headers['user-agent']?.slice(0, 256) ?? null };
  try {
    const start = /^\/sso\/([A-Za-z0-9_]{1,64})\/start$/.exec(url.pathname);
    if (start) {
      const { url: to, flow } = await core.sso.start(start[1], `${base}/sso/callback`);
      const next = safeNext(url.searchParams.get('next'));
      return redirect(res, to, [
        `${FLOW_COOKIE}=${flow}; Path=/sso; HttpOnly; SameSite=Lax; Max-Age=600${secure}`,
        `${NEXT_COOKIE}=${encodeURIComponent(next)}; Path=/sso; HttpOnly; SameSite=Lax; Max-Age=600${secure}`,
      ]);
    }
    if (url.pathname === '/sso/callback') {
      const { secret, expiresAt, user } = await core.sso.finish(readCookie(req.headers.cookie ?? null, FLOW_COOKIE) ?? undefined, url, meta);
      await core.audit.record({ user, role: user.role, via: 'session' }, { action: 'auth.login', ip: meta.ip, detail: { via: 'sso' } });
      const next = safeNext(decodeNext(readCookie(req.headers.cookie ?? null, NEXT_COOKIE)));
      return redirect(res, next, [
        `${FLOW_COOKIE}=; Path=/sso; HttpOnly; SameSite=Lax; Max-Age=0`,
        `${NEXT_COOKIE}=; Path=/sso; HttpOnly; SameSite=Lax; Max-Age=0`,
        `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Lax; Expires=${new Date(expiresAt).toUTCString()}${secure}`,
      ]);
    }
    return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
  } catch (e) {
    const message = e instanceof SsoError ? e.message : `Sign-in failed: ${e instanceof Error ? e.message : String(e)}`;
    await core.audit.record(null, { action: 'auth.login_failed', ip: meta.ip, detail: { via: 'sso', reason: message.slice(0, 200) } }).catch(() => undefined);
    return toLogin(res, message);
  }
}
