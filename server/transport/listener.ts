import type http from 'node:http';
import net from 'node:net';

/** A peer's address without the IPv4-mapped prefix (`::ffff:10.0.0.5` is `10.0.0.5`). */
function plainAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/** Loopback peers and the configured proxies may talk plain HTTP to a server behind a TLS proxy. */
export function isTrustedPeer(remote: string | undefined, proxies: string[]): boolean {
  const a = plainAddress(remote);
  return a.startsWith('127.') || a === '::1' || proxies.some((p) => plainAddress(p) === a);
}

const TLS_HANDSHAKE = 0x16;

/**
 * The first byte of a connection tells TLS (a handshake record, 0x16) from plain HTTP (a method's
 * letter). TLS goes on to the HTTPS server; plain HTTP is answered once, in clear, and closed:
 * a browser is sent to the https:// address, anything else gets the error envelope.
 */
export function plainHttpRefusal(socket: net.Socket, tlsServer: http.Server): void {
  socket.once('error', () => socket.destroy());
  socket.setTimeout(30_000, () => socket.destroy());
  socket.once('readable', () => {
    const first = socket.read(1) as Buffer | null;
    if (!first) return void socket.destroy();
    socket.unshift(first);
    socket.setTimeout(0);
    if (first[0] === TLS_HANDSHAKE) return void tlsServer.emit('connection', socket);
    let head = '';
    const onData = (b: Buffer) => {
      head += b.toString('latin1');
      if (head.length > 16_384) return void socket.destroy();
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const [method, target = '/'] = head.split(' ', 2);
      const host = /\r\nhost: *([^\r\n]+)/i.exec(head)?.[1]?.trim();
      const body = JSON.stringify({ error: { code: 'bad_request', message: 'This Hangar serves HTTPS only: use https:// (plain HTTP is refused).' } });
      const redirect =
        host && /^[A-Za-z0-9.:[\]-]+$/.test(host) && (method === 'GET' || method === 'HEAD') && target.startsWith('/') && !target.startsWith('/api');
      socket.end(
        redirect
          ? `HTTP/1.1 308 Permanent Redirect\r\nLocation: https://${host}${target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`
          : `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    socket.on('data', onData);
  });
}
