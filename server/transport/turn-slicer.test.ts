import { describe, expect, it } from 'vitest';
import { TurnSlicer } from './turn-slicer';

/** An event loop's check phase by hand: a turn runs what was queued before it began; what it queues waits for the next. */
function fakeLoop() {
  let queue: (() => void)[] = [];
  let t = 0;
  return {
    defer: (fn: () => void) => void queue.push(fn),
    now: () => t,
    spend: (ms: number) => void (t += ms),
    turn() {
      const q = queue;
      queue = [];
      q.forEach((f) => f());
    },
    get idle() {
      return queue.length === 0;
    },
  };
}

describe('TurnSlicer', () => {
  it('a burst runs about the budget per turn, in order; what else a turn has to do waits for one slice only', () => {
    const loop = fakeLoop();
    const slicer = new TurnSlicer(4, loop.now, loop.defer);
    const ran: string[] = [];
    const request = (name: string) => slicer.run(() => (ran.push(name), loop.spend(1)));
    for (let i = 0; i < 10; i++) request(`r${i}`);

    loop.turn();
    expect(ran).toEqual(['r0', 'r1', 'r2', 'r3']);
    // Between turns: the loop reads a console's pty (its output goes out this turn) and two more requests arrive.
    loop.defer(() => ran.push('echo'));
    request('late0');
    request('late1');
    loop.turn();
    expect(ran.slice(4)).toEqual(['r4', 'r5', 'r6', 'r7', 'echo']);
    loop.turn();
    loop.turn();
    expect(ran.slice(9)).toEqual(['r8', 'r9', 'late0', 'late1']);
    loop.turn();
    expect(loop.idle).toBe(true);
  });

  it('a quiet server starts each request in the turn it arrives, however many turns pass', () => {
    const loop = fakeLoop();
    const slicer = new TurnSlicer(4, loop.now, loop.defer);
    let n = 0;
    for (let turn = 0; turn < 5; turn++) {
      slicer.run(() => (n++, loop.spend(3)));
      loop.turn();
      expect(n).toBe(turn + 1);
      loop.spend(10);
    }
  });

  it('one request longer than the budget runs whole; the next waits for the next turn', () => {
    const loop = fakeLoop();
    const slicer = new TurnSlicer(4, loop.now, loop.defer);
    const ran: string[] = [];
    slicer.run(() => (ran.push('slow'), loop.spend(20)));
    slicer.run(() => ran.push('next'));
    loop.turn();
    expect(ran).toEqual(['slow']);
    loop.turn();
    expect(ran).toEqual(['slow', 'next']);
  });
});
