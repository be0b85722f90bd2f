import { describe, expect, it } from 'vitest';
import { QuietGate } from './quiet-gate';

describe('QuietGate', () => {
  it('lets waiters through at once when free, and only after the last hold is released otherwise', async () => {
    const g = new QuietGate();
    await g.idle();
    const a = g.hold();
    const b = g.hold();
    let passed = false;
    const waiting = g.idle().then(() => (passed = true));
    a();
    a(); // a second release of the same hold does not count
    await new Promise((r) => setTimeout(r, 10));
    expect([passed, g.busy]).toEqual([false, true]);
    b();
    await waiting;
    expect([passed, g.busy]).toEqual([true, false]);
  });
});
