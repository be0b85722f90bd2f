import { describe, expect, it, vi } from 'vitest';
import { ConsoleSession, type ViewerSink } from './session';
import type { ConsoleSource } from './source';

class FakeSource implements ConsoleSource {
  written: string[] = [];
  sizes: [number, number][] = [];
  paused = false;
  closed = false;
  private dataFn: (d: string) => void = () => undefined;
  private exitFn: (c: number | null) => void = () => undefined;
  write(d: string) {
    this.written.push(d);
  }
  resize(c: number, r: number) {
    this.sizes.push([c, r]);
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  onData(fn: (d: string) => void) {
    this.dataFn = fn;
  }
  onExit(fn: (c: number | null) => void) {
    this.exitFn = fn;
  }
  close() {
    this.closed = true;
  }
  emit(d: string) {
    this.dataFn(d);
  }
  exit(code: number) {
    this.exitFn(code);
  }
}

function sink(id: string, autoAck = true) {
  const got: { offset: number; data: string }[] = [];
  const acks: (() => void)[] = [];
  const s: ViewerSink & { got: typeof got; acks: typeof acks; exitCode?: number | null; closedReason?: string; count?: number } = {
    id,
    got,
    acks,
    output(offset, data, ack) {
      got.push({ offset, data });
      if (autoAck) ack();
      else acks.push(ack);
    },
    exit(code) {
      s.exitCode = code;
    },
    viewers(n) {
      s.count = n;
    },
    closed(reason) {
      s.closedReason = reason;
    },
  };
  return s;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ConsoleSession', () => {
  it('sends output to every viewer and replays scrollback to late ones', async () => {
    const src = new FakeSource();
    const s = new ConsoleSession('sess1234', { kind: 'host-shell' }, 'u', src, { scrollbackChars: 1000 });
    const a = sink('a');
    s.attach(a, 'interactive');
    src.emit('hello ');
    src.emit('world');
    await tick();
    expect(a.got).toEqual([{ offset: 11, data: 'hello world' }]);
    const b = sink('b');
    expect(s.attach(b, 'readonly')).toEqual({ replay: 'hello world', offset: 11, truncated: false });
    expect(a.count).toBe(2);
    const c = sink('c');
    expect(s.attach(c, 'readonly', 6).replay).toBe('world');
  });

  it('drops input and resizes from read-only viewers', () => {
    const src = new FakeSource();
    const s = new ConsoleSession('sess1234', { kind: 'host-shell' }, 'u', src, { scrollbackChars: 1000 });
    s.attach(sink('ro'), 'readonly');
    s.attach(sink('rw'), 'interactive');
    expect(s.input('ro', 'rm -rf /\n')).toBe(false);
    expect(s.resize('ro', 10, 10)).toBe(false);
    expect(s.input('rw', 'ls\n')).toBe(true);
    expect(s.input('stranger', 'x')).toBe(false);
    expect(src.written).toEqual(['ls\n']);
    expect(s.resize('rw', 120, 40)).toBe(true);
    expect(src.sizes).toEqual([[120, 40]]);
  });

  it('pauses the source while a viewer is behind and resumes when it catches up', async () => {
    const src = new FakeSource();
    const s = new ConsoleSession('sess1234', { kind: 'host-shell' }, 'u', src, { scrollbackChars: 1000, highWater: 100, lowWater: 20 });
    const slow = sink('slow', false);
    s.attach(slow, 'interactive');
    src.emit('x'.repeat(150));
    await tick();
    expect(src.paused).toBe(true);
    slow.acks.shift()!();
    expect(src.paused).toBe(false);
  });

  it('disconnects a viewer that stops reading, so others are not held forever', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const src = new FakeSource();
      const s = new ConsoleSession('sess1234', { kind: 'host-shell' }, 'u', src, { scrollbackChars: 1000, highWater: 100, lowWater: 20, stallMs: 1000 });
      const stuck = sink('stuck', false);
      const fine = sink('fine');
      s.attach(stuck, 'readonly');
      s.attach(fine, 'interactive');
      src.emit('y'.repeat(150));
      await tick();
      expect(src.paused).toBe(true);
      vi.advanceTimersByTime(1500);
      expect(stuck.closedReason).toMatch(/stopped reading/);
      expect(src.paused).toBe(false);
      expect(s.viewerCount).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('tells viewers when the process exits, and closes the source on close', async () => {
    const src = new FakeSource();
    const s = new ConsoleSession('sess1234', { kind: 'host-shell' }, 'u', src, { scrollbackChars: 1000 });
    const a = sink('a');
    s.attach(a, 'interactive');
    src.emit('bye');
    src.exit(3);
    expect(a.got.at(-1)?.data).toBe('bye');
    expect(a.exitCode).toBe(3);
    expect(s.input('a', 'x')).toBe(false);
    const t = new FakeSource();
    const s2 = new ConsoleSession('sess5678', { kind: 'host-shell' }, 'u', t, { scrollbackChars: 10 });
    const b = sink('b');
    s2.attach(b, 'interactive');
    s2.close('shutdown');
    expect(t.closed).toBe(true);
    expect(b.closedReason).toBe('shutdown');
  });
});
