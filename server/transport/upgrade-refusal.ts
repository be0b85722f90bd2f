import type { Duplex } from 'node:stream';
import { errorToResponse } from './errors';

/** An error before a websocket upgrade: the status and envelope a REST call would get, then the socket closed. */
export function refuse(socket: Duplex, err: unknown): void {
  const { status, body } = errorToResponse(err);
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
