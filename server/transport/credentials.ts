import { SESSION_COOKIE } from '@/server/core/auth';

/** Session cookie and bearer token from request headers (HTTP and socket.io handshakes alike). */
export function credentialsFrom(headers: { cookie?: string | null; authorization?: string | null; share?: string | null }): {
  session: string | null;
  bearer: string | null;
  share: string | null;
} {
  // A share link's page sends its token in X-Hangar-Share; it wins, so a logged-in visitor sees exactly what the link gives.
  if (headers.share) return { session: null, bearer: null, share: headers.share };
  return { session: readCookie(headers.cookie ?? null, SESSION_COOKIE), bearer: readBearer(headers.authorization ?? null), share: null };
}

/**
 * x-hangar-node and x-hangar-forwarded: another node acting for a user. Honoured only with that
 * node's valid signature (AuthService); when present, the request's other credentials are not
 * looked at, so a forged forward is 401 rather than a fallback to a cookie.
 */
export function forwardedFrom(headers: { node?: string | null; forwarded?: string | null }): { node: string; principal: string } | null {
  if (!headers.node && !headers.forwarded) return null;
  return { node: headers.node ?? '', principal: headers.forwarded ?? '' };
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

function readBearer(header: string | null): string | null {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

/**
 * Cross-site request forgery guard for requests a browser may send on its own with our
 * cookie: the Origin (or Sec-Fetch-Site) must say the request came from our own pages.
 */
export function isSameOrigin(headers: { origin?: string | null; host?: string | null; 'sec-fetch-site'?: string | null }): boolean {
  const { origin, host } = headers;
  if (origin) {
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  return headers['sec-fetch-site'] === 'same-origin';
}
