import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutputWriter } from './output-writer';

/** A terminal that parses when told to: each write waits in `queue` until `parse()`. */
function fakeTerm() {
  const writes: string[] = [];
  const queue: (() => void)[] = [];
  return {
    writes,
    write(data: string, parsed?: () => void) {
      writes.push(data);
      queue.push(() => parsed?.());
    },
    parse() {
      queue.shift()?.();
    },
  };
}

const big = (c: string) => c.repeat(5000);

describe('OutputWriter', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('writes an echo at once, and a stream at most every gap, coalesced', () => {
    const term = fakeTerm();
    const out = new OutputWriter(term, 32, () => Date.now());
    const acked: string[] = [];
    out.write('e', () => acked.push('e'));
    expect(term.writes).toEqual(['e']);
    term.parse();
    out.write('f');
    expect(term.writes).toEqual(['e', 'f']);
    term.parse();
    // A big write starts a stream: what follows waits for the gap and goes in as one.
    out.write(big('a'), () => acked.push('a'));
    out.write('b', () => acked.push('b'));
    term.parse();
    expect(acked).toEqual(['e', 'a']);
    out.write('c', () => acked.push('c'));
    expect(term.writes).toEqual(['e', 'f', big('a')]);
    vi.advanceTimersByTime(31);
    expect(term.writes).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(term.writes).toEqual(['e', 'f', big('a'), 'bc']);
    term.parse();
    expect(acked).toEqual(['e', 'a', 'b', 'c']);
    // Quiet again (the last write was small): the next echo goes at once.
    vi.advanceTimersByTime(100);
    out.write('x');
    expect(term.writes.at(-1)).toBe('x');
  });

  it('waits for xterm to parse the last write before the next', () => {
    const term = fakeTerm();
    const out = new OutputWriter(term, 32, () => Date.now());
    out.write(big('a'));
    vi.advanceTimersByTime(100);
    out.write('b');
    vi.advanceTimersByTime(100);
    expect(term.writes).toHaveLength(1);
    term.parse();
    expect(term.writes).toEqual([big('a'), 'b']);
  });

  it('acks what it drops (a reset), and after dispose writes nothing but still acks', () => {
    const term = fakeTerm();
    const out = new OutputWriter(term, 32, () => Date.now());
    const acked: string[] = [];
    out.write(big('o'));
    out.write('two', () => acked.push('two'));
    out.drop();
    expect(acked).toEqual(['two']);
    term.parse();
    vi.advanceTimersByTime(100);
    expect(term.writes).toEqual([big('o')]);
    out.dispose();
    out.write('three', () => acked.push('three'));
    expect(term.writes).toEqual([big('o')]);
    expect(acked).toEqual(['two', 'three']);
  });
});
