import { describe, expect, it } from 'vitest';
import { INPUT_HELD_MAX, InputGate } from './input-gate';

describe('InputGate', () => {
  it('holds keys typed before the attach and sends them first, in order, once it is answered', () => {
    const sent: string[] = [];
    const g = new InputGate((d) => sent.push(d));
    g.send('ec');
    g.send('ho changed\r');
    expect(sent).toEqual([]);
    g.opened();
    g.send('ls\r');
    expect(sent).toEqual(['ec', 'ho changed\r', 'ls\r']);
  });

  it('holds again after a drop of the link, and sends nothing held once let go of', () => {
    const sent: string[] = [];
    const g = new InputGate((d) => sent.push(d));
    g.opened();
    g.closed();
    g.send('a');
    g.opened();
    expect(sent).toEqual(['a']);
    g.closed();
    g.send('b');
    g.drop();
    g.opened();
    expect(sent).toEqual(['a']);
  });

  it('keeps at most INPUT_HELD_MAX while not attached (a huge paste is cut, not kept in memory)', () => {
    const sent: string[] = [];
    const g = new InputGate((d) => sent.push(d));
    g.send('x'.repeat(INPUT_HELD_MAX - 1));
    g.send('yy');
    g.send('z');
    g.opened();
    expect(sent.map((s) => s.length)).toEqual([INPUT_HELD_MAX - 1, 1]);
  });
});
