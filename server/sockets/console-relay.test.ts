import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '@/server/core/auth';
import type { Core } from '@/server/core/hangar';
import { ConsoleRelays, RELAY_NSP } from './console-relay';

/** A stand-in for the owning node: a real socket.io server on a port of its own, its relay namespace scripted by the test. */
async function owner(onAttach: (socket: import('socket.io').Socket, req: { sessionId: string }, reply: (r: unknown) => void) => void) {
  const server = http.createServer();
  const io = new Server(server);
  const handshakes: Record<string, unknown>[] = [];
  io.of(RELAY_NSP).use((s, next) => {
    handshakes.push(s.handshake.auth);
    next();
  });
  io.of(RELAY_NSP).on('connection', (s) => s.on('attach', (req, reply) => onAttach(s, req, reply)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { io, url, handshakes, close: () => new Promise<void>((r) => io.close(() => r())) };
}

const principal: Principal = {
  user: { id: 'usr_1', username: 'ann', role: 'viewer', disabled: false, createdAt: 0 },
  role: 'viewer',
  via: 'token',
  tokenId: 'tok_1',
};

function relays(url: string) {
  const core = {
    cluster: {
      requireOnline: (id: string) => ({ id, name: 'b', url }),
      sign: (method: string, path: string, p: string) => ({ 'x-hangar-node': 'nod_a', 'x-hangar-signed': `${method} ${path}`, 'x-hangar-forwarded': p }),
    },
  } as unknown as Core;
  const told: [string, unknown][] = [];
  const browser = { emit: (ev: string, msg: unknown, ack?: () => void) => (told.push([ev, msg]), ack?.()) };
  return { r: new ConsoleRelays(core, principal, '10.0.0.7', browser as never), told };
}

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('console relays (the browser side)', () => {
  it("signs the handshake for the browser's user and carries the node's answers and output to the browser", async () => {
    const b = await owner((s, req, reply) => {
      s.emit('viewers', { sessionId: req.sessionId, count: 1, viewers: [], keyboard: null, you: 'x' });
      reply({ ok: true, sessionId: req.sessionId, mode: 'readonly', offset: 0, replay: 'old', truncated: false, exited: false, recording: false });
      s.emit('output', { sessionId: req.sessionId, offset: 3, data: 'new' }, () => s.emit('output', { sessionId: 'not-mine-1', offset: 1, data: 'x' }));
    });
    closers.push(b.close);
    const { r, told } = relays(b.url);
    closers.push(() => r.close());
    const reply = await r.attach('nod_b', { sessionId: 'relay-unit-1' });
    expect(reply).toMatchObject({ ok: true, mode: 'readonly', replay: 'old' });
    await expect.poll(() => told.map(([ev]) => ev)).toEqual(['viewers', 'output']);
    expect(b.handshakes[0]).toMatchObject({ 'x-hangar-node': 'nod_a', 'x-hangar-signed': `SOCKET ${RELAY_NSP}` });
    const forwarded = JSON.parse(Buffer.from(b.handshakes[0]['x-hangar-forwarded'] as string, 'base64url').toString());
    expect(forwarded).toMatchObject({ userId: 'usr_1', role: 'viewer', via: 'token', ip: '10.0.0.7' });
    expect(r.has('relay-unit-1')).toBe(true);
  });

  it('a node that goes away before it answers fails the attach with the reason, and closes open sessions with it', async () => {
    let first = true;
    const b = await owner((_s, req, reply) => {
      if (first) {
        first = false;
        reply({ ok: true, sessionId: req.sessionId, mode: 'interactive', offset: 0, replay: '', truncated: false, exited: false, recording: false });
      }
      // The second attach is never answered: the node goes away instead.
      else void b.close();
    });
    closers.push(b.close);
    const { r, told } = relays(b.url);
    closers.push(() => r.close());
    expect(await r.attach('nod_b', { sessionId: 'relay-unit-open' })).toMatchObject({ ok: true });
    const pending = await r.attach('nod_b', { sessionId: 'relay-unit-hang' });
    expect(pending).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/^node b /) } });
    expect(told).toContainEqual(['closed', { sessionId: 'relay-unit-open', reason: expect.stringMatching(/^node b /) }]);
    expect(r.has('relay-unit-open')).toBe(false);
  });

  it('a node that cannot be reached answers the attach with unavailable', async () => {
    const b = await owner(() => undefined);
    await b.close();
    const { r } = relays(b.url);
    expect(await r.attach('nod_b', { sessionId: 'relay-unit-none' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/node b could not be reached/) },
    });
  });
});
