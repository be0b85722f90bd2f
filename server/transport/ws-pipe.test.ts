import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pipeSocket, TUNNEL_EOF, type PipeSocket } from '@/lib/ws-pipe';

/** A websocket as the pipe sees it: what was sent, a send buffer that drains when told, pause state. */
class FakeSocket extends EventEmitter implements PipeSocket {
  bufferedAmount = 0;
  paused = false;
  sent: (Uint8Array | string)[] = [];
  private callbacks: (() => void)[] = [];
  send(data: Uint8Array | string, cb?: (err?: Error) => void) {
    this.sent.push(data);
    this.bufferedAmount += typeof data === 'string' ? data.length : data.length;
    if (cb) this.callbacks.push(() => cb());
  }
  flush() {
    this.bufferedAmount = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
}

describe('the tunnel pipe', () => {
  it('pauses its source while the socket holds 4 MiB unsent, and resumes once it drains', async () => {
    const ws = new FakeSocket();
    const source = new PassThrough();
    pipeSocket(ws, source, new PassThrough(), () => undefined);
    source.write(Buffer.alloc(5 * 2 ** 20));
    await new Promise((r) => setImmediate(r));
    expect(source.isPaused()).toBe(true);
    ws.flush();
    expect(source.isPaused()).toBe(false);
  });

  it('stops reading the socket while the sink is full, until it drains', async () => {
    const ws = new FakeSocket();
    let release: (() => void) | null = null;
    const sink = new Writable({ highWaterMark: 16, write: (_c, _e, done) => void (release = done) });
    pipeSocket(ws, new PassThrough(), sink, () => undefined);
    ws.emit('message', Buffer.alloc(64), true);
    expect(ws.paused).toBe(true);
    release!();
    await new Promise((r) => setImmediate(r));
    expect(ws.paused).toBe(false);
  });

  it('passes half-closes both ways: the source ending sends eof; an eof frame ends the sink; both are told', async () => {
    const ws = new FakeSocket();
    const source = new PassThrough();
    const sink = new PassThrough();
    const halves: string[] = [];
    const state = pipeSocket(ws, source, sink, (s) => halves.push(`${s.sentEof}/${s.gotEof}`));
    ws.emit('message', Buffer.from('hello'), true);
    ws.emit('message', Buffer.from(TUNNEL_EOF), false);
    expect(sink.read()?.toString()).toBe('hello');
    expect(sink.writableEnded).toBe(true);
    // Data after the peer's eof is dropped, not written to an ended sink.
    ws.emit('message', Buffer.from('late'), true);
    source.end('bye');
    await new Promise((r) => setImmediate(r));
    expect(ws.sent.map(String)).toEqual(['bye', TUNNEL_EOF]);
    expect(halves).toEqual(['false/true', 'true/true']);
    expect(state).toMatchObject({ bytesIn: 5, bytesOut: 3 });
  });
});
