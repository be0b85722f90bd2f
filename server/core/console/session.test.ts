import { describe, expect, it, vi } from 'vitest';
import { ConsoleSession, type SessionOptions, type ViewerSink } from './session';
import type { ConsoleSource } from '@/server/drivers/types';

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
  const s: ViewerSink & {
    got: typeof got;
    acks: typeof acks;
    exitCode?: number | null;
    closedReason?: string;
    count?: number;
    keyboard?: string | null;
    you?: string;
    names?: string[];
  } = {
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
    viewers(list, keyboard, you) {
      s.count = list.length;
      s.keyboard = keyboard;
      s.you = you;
      s.names = list.map((v) => v.name);
    },
    closed(reason) {
      s.closedReason = reason;
    },
  };
  return s;
}

const tick = () => new Promise((r) => setImmediate(r));

/** A host-shell session on a fake source; scrollback 1,000 characters unless `opts` say otherwise. */
function shellSession(opts: Partial<SessionOptions> = {}) {
  const src = new FakeSource();
  const s = new ConsoleSession('sess1234', { kind: 'host-shell' }, 'u', src, { scrollbackChars: 1000, ...opts });
  return { src, s };
}

/** A host-shell session holding output above `holdAbove` unacknowledged characters, with one interactive viewer that acks by hand. */
function behindViewer(holdAbove: number) {
  const { src, s } = shellSession({ scrollbackChars: 10_000, holdAbove });
  const slow = sink('slow', false);
  s.attach(slow, 'interactive');
  return { src, slow };
}

describe('ConsoleSession', () => {
  it('sends output to every viewer and replays scrollback to late ones', async () => {
    const { src, s } = shellSession();
    const a = sink('a');
    s.attach(a, 'interactive');
    src.emit('hello ');
    src.emit('world');
    await tick();
    expect(a.got).toEqual([
      { offset: 6, data: 'hello ' },
      { offset: 11, data: 'world' },
    ]);
    const b = sink('b');
    expect(s.attach(b, 'readonly')).toEqual({ replay: 'hello world', offset: 11, truncated: false });
    expect(a.count).toBe(2);
    const c = sink('c');
    expect(s.attach(c, 'readonly', 6).replay).toBe('world');
  });

  it('sends an echo at once; more output read in the same turn goes out at its end, as one message', async () => {
    const { src, s } = shellSession({ scrollbackChars: 10_000 });
    const a = sink('a');
    s.attach(a, 'interactive');
    src.emit('l');
    expect(a.got).toEqual([{ offset: 1, data: 'l' }]);
    src.emit('s');
    src.emit('\r\n');
    expect(a.got).toHaveLength(1);
    await tick();
    expect(a.got.slice(1)).toEqual([{ offset: 4, data: 's\r\n' }]);
    // Next turn: an echo again goes at once; a big read (a flood's) waits for the turn's end.
    src.emit('x');
    expect(a.got).toHaveLength(3);
    await tick();
    src.emit('y'.repeat(100));
    expect(a.got).toHaveLength(3);
    await tick();
    expect(a.got.at(-1)).toEqual({ offset: 105, data: 'y'.repeat(100) });
  });

  it('drops input and resizes from read-only viewers', () => {
    const { src, s } = shellSession();
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
    const { src, s } = shellSession({ highWater: 100, lowWater: 20 });
    const slow = sink('slow', false);
    s.attach(slow, 'interactive');
    src.emit('x'.repeat(150));
    await tick();
    expect(src.paused).toBe(true);
    slow.acks.shift()!();
    expect(src.paused).toBe(false);
  });

  it('gathers output into one message while a viewer is behind, and sends at once to one that keeps up', async () => {
    // The hold's own timer (HOLD_MAX_MS) is faked: on a loaded host the turns between emits can take longer than it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { src, slow } = behindViewer(100);
      src.emit('a'.repeat(150));
      await tick();
      expect(slow.got.map((g) => g.data.length)).toEqual([150]);
      // 150 unacknowledged: what comes now waits for the ack instead of going out read by read.
      src.emit('b');
      await tick();
      src.emit('c');
      await tick();
      expect(slow.got).toHaveLength(1);
      slow.acks.shift()!();
      expect(slow.got.slice(1)).toEqual([{ offset: 152, data: 'bc' }]);
      // Caught up: an echo goes out in the next turn.
      slow.acks.shift()!();
      src.emit('d');
      await tick();
      expect(slow.got.slice(2)).toEqual([{ offset: 153, data: 'd' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds output for a viewer that is behind no longer than a moment', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { src, slow } = behindViewer(10);
      src.emit('x'.repeat(20));
      await tick();
      src.emit('y');
      await tick();
      expect(slow.got).toHaveLength(1);
      vi.advanceTimersByTime(30);
      expect(slow.got.map((g) => g.data)).toEqual(['x'.repeat(20), 'y']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('disconnects a viewer that stops reading, so others are not held forever', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { src, s } = shellSession({ highWater: 100, lowWater: 20, stallMs: 1000 });
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
    const { src, s } = shellSession();
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

  it('a stopped machine closes its console only after the exit code has come (or the grace ends)', () => {
    vi.useFakeTimers();
    try {
      const { src, s } = shellSession();
      const a = sink('a');
      s.attach(a, 'interactive');
      s.closeAfterExit('The machine stopped.', 8000);
      expect(a.closedReason).toBeUndefined();
      src.exit(5);
      expect([a.exitCode, a.closedReason]).toEqual([5, 'The machine stopped.']);
      const t = new FakeSource();
      const s2 = new ConsoleSession('sess5678', { kind: 'host-shell' }, 'u', t, { scrollbackChars: 1000 });
      const b = sink('b');
      s2.attach(b, 'interactive');
      s2.closeAfterExit('The machine stopped.', 8000);
      vi.advanceTimersByTime(7999);
      expect(b.closedReason).toBeUndefined();
      vi.advanceTimersByTime(1);
      expect([b.exitCode, b.closedReason, t.closed]).toEqual([undefined, 'The machine stopped.', true]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows who watches, and lets the keyboard be taken, handed over and freed', () => {
    const { src, s } = shellSession();
    const ann = sink('ann');
    const bob = sink('bob');
    const eve = sink('eve');
    s.attach(ann, 'interactive', undefined, { name: 'ann', via: 'session' });
    s.attach(bob, 'interactive', undefined, { name: 'bob', via: 'session' });
    s.attach(eve, 'readonly', undefined, { name: 'Share link', via: 'share' });
    expect(ann.names).toEqual(['ann', 'bob', 'Share link']);
    expect(new Set([ann.you, bob.you, eve.you]).size).toBe(3);
    expect(ann.keyboard).toBeNull();
    // Free keyboard: both operators type.
    expect(s.input('ann', 'a')).toBe(true);
    expect(s.input('bob', 'b')).toBe(true);
    expect(s.keyboardAction('eve', 'take')).toMatch(/read-only/i);
    expect(s.keyboardAction('ann', 'take')).toBeNull();
    expect(bob.keyboard).toBe(ann.you);
    expect(s.input('bob', 'x')).toBe(false);
    expect(s.resize('bob', 50, 20)).toBe(false);
    expect(s.keyboardAction('bob', 'take')).toMatch(/ann has the keyboard/);
    expect(s.keyboardAction('ann', 'give', eve.you)).toMatch(/read-only/);
    expect(s.keyboardAction('ann', 'give', bob.you)).toBeNull();
    expect(ann.keyboard).toBe(bob.you);
    expect(s.input('ann', 'y')).toBe(false);
    expect(s.input('bob', 'z')).toBe(true);
    expect(s.keyboardAction('ann', 'release')).toMatch(/do not hold/);
    // The holder leaves: the keyboard is free again.
    s.detach('bob');
    expect(ann.keyboard).toBeNull();
    expect(ann.names).toEqual(['ann', 'Share link']);
    expect(s.input('ann', 'w')).toBe(true);
    expect(src.written).toEqual(['a', 'b', 'z', 'w']);
  });

  it('writes output to a recorder until the session ends', async () => {
    const { src, s } = shellSession();
    const rec = {
      out: [] as string[],
      sizes: [] as number[][],
      closed: 0,
      output(d: string) {
        this.out.push(d);
      },
      resize(c: number, r: number) {
        this.sizes.push([c, r]);
      },
      close() {
        this.closed++;
      },
    };
    s.record(rec);
    s.attach(sink('a'), 'interactive');
    src.emit('one');
    await tick();
    s.resize('a', 100, 30);
    src.emit('two');
    src.exit(0);
    expect(rec.out).toEqual(['one', 'two']);
    expect(rec.sizes).toEqual([[100, 30]]);
    expect(rec.closed).toBe(1);
    s.close('bye');
    expect(rec.closed).toBe(1);
  });
});
