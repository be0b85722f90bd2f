import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { Server as SocketServer } from 'socket.io';
import type { Core } from './core/hangar';
import { createApi } from './api/app';
import { mountConsole } from './sockets/console';
import { mountEvents } from './sockets/events';
import { disconnectRevoked } from './sockets/auth';
import { relayAcrossNodes, shareEvents, SHARED_NSP } from './sockets/cluster-relay';
import { serveMetrics } from './transport/metrics';
import { isSsoPath, serveSso } from './transport/sso';
import { plainHttpRefusal, isTrustedPeer } from './transport/listener';
import { isTunnelUpgrade, sshTunnels } from './transport/ssh-tunnel';
import { displayBridges, isDisplayUpgrade } from './transport/display-bridge';
import { TurnSlicer } from './transport/turn-slicer';

export interface UiHandler {
  request: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;
  /** Only in development (Next's hot reload socket). */
  upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * What the pages may load: our own scripts, styles and sockets, nothing from elsewhere, never
 * framed. Next's app router writes its boot data as inline scripts and xterm sizes itself with
 * inline styles, hence 'unsafe-inline' there (no third-party origin is allowed either way);
 * development adds 'unsafe-eval' for Next's hot reload.
 */
export function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    // 'wasm-unsafe-eval': the recording player's terminal emulator is WebAssembly (not JS eval).
    `script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const securityHeaders = (dev: boolean): Record<string, string> => ({
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), payment=()',
  'Content-Security-Policy': contentSecurityPolicy(dev),
});

/**
 * The one module that owns the HTTP server: /api goes to Hono, /socket.io to socket.io,
 * everything else to Next. Upgrades for socket.io are socket.io's; any other upgrade goes
 * to Next in development and is refused otherwise.
 */
export interface ListenOptions {
  /** Serve HTTPS with this certificate and key (reloadable with setSecureContext). */
  tls?: { cert: Buffer; key: Buffer };
  /** Plain HTTP behind a TLS-terminating proxy: only these peers (and loopback) are served. */
  trustedProxies?: string[];
}

export function createHttpServer(core: Core, ui: UiHandler | null, opts: ListenOptions = {}) {
  const { app, routes } = createApi(core);
  const api = getRequestListener(app.fetch);
  const headers = Object.entries(securityHeaders(!!ui?.upgrade));
  // A year, as browsers' preload lists ask; only ever sent over HTTPS (a browser ignores it on HTTP anyway).
  if (opts.tls) headers.push(['Strict-Transport-Security', 'max-age=31536000']);
  const proxies = opts.trustedProxies ?? [];
  const slicer = new TurnSlicer();
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (proxies.length && !isTrustedPeer(req.socket.remoteAddress, proxies)) {
      const body = JSON.stringify({
        error: { code: 'forbidden', message: 'This Hangar serves plain HTTP only to its trusted TLS proxy: connect through the proxy.' },
      });
      return void res.writeHead(403, { 'Content-Type': 'application/json' }).end(body);
    }
    for (const [k, v] of headers) res.setHeader(k, v);
    const url = req.url ?? '/';
    if (url === '/api' || url.startsWith('/api/') || url.startsWith('/api?')) return void api(req, res);
    if (url === '/metrics' || url.startsWith('/metrics?')) return void serveMetrics(core, req, res);
    if (isSsoPath(url)) return void serveSso(core, req, res);
    if (ui) return void ui.request(req, res);
    res
      .writeHead(404, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'not_found', message: 'The web UI is not served by this process (--no-ui).' } }));
  };
  // A burst of requests is spread over the loop's turns: consoles and events are served between them.
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => slicer.run(() => handle(req, res));
  const server: http.Server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, ALPNProtocols: ['http/1.1'] }, handler)
    : http.createServer(handler);
  // On HTTPS, one port answers both: a TLS hello goes to the TLS server, plain HTTP gets a clear refusal
  // (a browser a redirect to https://) instead of a reset connection.
  const listener: net.Server = opts.tls ? net.createServer((socket) => plainHttpRefusal(socket, server)) : server;
  // Idle keep-alive connections outlive the client's own idle timeout (undici: 4 s), so the client
  // always closes first; with Node's default 5 s, a request could meet the server's close (ECONNRESET).
  // What Node's parser refuses before any handler runs (a 70 KB URL, broken framing) still gets the envelope.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const [status, text] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const body = JSON.stringify({ error: { code: 'bad_request', message: `${text}: the request could not be read (${err.code ?? 'malformed'}).` } });
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // No limit on a whole request (Node's is 5 minutes): an upload on a slow link, or a command's stdin streamed for as long as
  // it runs (hangar exec -i, hangar run), would be cut there. Headers still have theirs; bodies have their routes' size caps.
  server.requestTimeout = 0;
  const io = new SocketServer(server, {
    serveClient: false,
    // We route other upgrades ourselves (below) instead of letting engine.io destroy them.
    destroyUpgrade: false,
    maxHttpBufferSize: 256 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    ...(proxies.length ? { allowRequest: (req, cb) => cb(null, isTrustedPeer(req.socket.remoteAddress, proxies)) } : {}),
  });
  const tunnels = sshTunnels(core);
  const displays = displayBridges(core);
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/socket.io/')) return;
    if (isTunnelUpgrade(req.url)) return void tunnels.upgrade(req, socket, head);
    if (isDisplayUpgrade(req.url)) return void displays.upgrade(req, socket, head);
    if (ui?.upgrade) return ui.upgrade(req, socket, head);
    socket.destroy();
  });
  core.metrics.socketsOpen = () => Object.fromEntries(['/events', '/console'].map((n) => [n, io.of(n).sockets.size]));
  const endShared = core.cluster.enabled && core.store.pool ? shareEvents(io, core.store.pool, core.cluster) : async () => undefined;
  const unmount = mountEvents(io, core);
  const unrelay = core.cluster.enabled ? relayAcrossNodes(io.of(SHARED_NSP), core) : () => undefined;
  const unsubscribe = () => {
    unrelay();
    unmount();
  };
  const unmountConsole = mountConsole(io, core);
  const stopRevoking = disconnectRevoked(io, core);
  return {
    server,
    listener,
    io,
    routes,
    /** A new certificate for the connections from now on; open ones (consoles) keep theirs. */
    setCertificate(cert: Buffer, key: Buffer) {
      (server as https.Server).setSecureContext({ cert, key });
    },
    async close() {
      if (listener !== server) listener.close();
      unsubscribe();
      unmountConsole();
      stopRevoking();
      tunnels.close();
      displays.close();
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await endShared();
      server.closeAllConnections();
    },
  };
}
