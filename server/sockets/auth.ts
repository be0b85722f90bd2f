import type { Server, Socket } from 'socket.io';
import type { Principal } from '@/server/core/auth';
import type { Core } from '@/server/core/hangar';
import { RELAY_NSP } from './relay-nsp';
import { credentialsFrom, isSameOrigin } from '@/server/transport/credentials';

export interface SocketData {
  principal: Principal;
}

/**
 * Namespace middleware: a session cookie (browsers, and then the Origin must be ours, or any
 * site could open a socket with the visitor's cookie) or an API token in `auth.token`.
 */
export function socketAuth(core: Core, opts: { share?: boolean } = {}) {
  return async (socket: Socket, next: (err?: Error) => void) => {
    try {
      const h = socket.request.headers;
      const token = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : null;
      const share = typeof socket.handshake.auth?.share === 'string' ? socket.handshake.auth.share : null;
      const creds = share ? { share } : token ? { session: null, bearer: token } : credentialsFrom({ cookie: h.cookie });
      const principal = await core.auth.authenticate(creds);
      if (!principal) return next(new Error(share ? 'unauthorized: this share link has expired or was revoked' : 'unauthorized: log in first'));
      if (
        principal.via === 'session' &&
        !isSameOrigin({ origin: h.origin ?? null, host: h.host ?? null, 'sec-fetch-site': (h['sec-fetch-site'] as string) ?? null })
      ) {
        return next(new Error('forbidden: cross-site socket refused'));
      }
      admit(socket, principal, opts, next);
    } catch (err) {
      next(err instanceof Error ? err : new Error(String(err)));
    }
  };
}

/** A caller known (here, or vouched for by another node): what a share link may open, and the socket's principal. */
export function admit(socket: Socket, principal: Principal, opts: { share?: boolean }, next: (err?: Error) => void): void {
  if (principal.share && !opts.share) return next(new Error("forbidden: a share link opens its machine's console only"));
  // A recording link plays its recording over HTTP: no socket (console, events) is its.
  if (principal.share?.recordingId) return next(new Error('forbidden: a recording link opens its recording only'));
  (socket.data as SocketData).principal = principal;
  // A link's console closes when the link expires, whether or not anyone revokes it.
  if (principal.share) {
    const timer = setTimeout(() => socket.disconnect(true), Math.min(2 ** 31 - 1, Math.max(0, principal.share.expiresAt - Date.now())));
    socket.once('disconnect', () => clearTimeout(timer));
  }
  next();
}

/**
 * Sockets of ended sessions close at once: a logout, a revoked session, a disabled or deleted
 * user, a reset password. A role change closes the user's consoles (their mode was decided on
 * attach); the events socket connects again by itself as the new role. Console sockets are a
 * browser's and (a cluster) another node's relaying a browser's, whose principal is the user it acts for.
 */
export function disconnectRevoked(io: Server, core: Core): () => void {
  return core.auth.onRevoke((r) => {
    const consoles = ['/console', RELAY_NSP];
    for (const name of r.consolesOnly ? consoles : [...consoles, '/events']) {
      // Never made here (the relay on one node): io.of would make it.
      const nsp = io._nsps.get(name);
      if (!nsp) continue;
      for (const s of nsp.sockets.values()) {
        const p = (s.data as Partial<SocketData>).principal;
        const hit = r.shareId ? p?.share?.id === r.shareId : !!p && p.user.id === r.userId && (!r.sessionId || p.sessionId === r.sessionId);
        if (hit) s.disconnect(!r.consolesOnly);
      }
    }
  });
}
