import { describe, expect, it } from 'vitest';
import { heartbeatText, nodeStateLabel, removeBlocker, toneOf, usageBars } from './node-view';

const GiB = 2 ** 30;

describe('node view', () => {
  it('says offline before draining, draining before online', () => {
    expect(nodeStateLabel({ online: false, state: 'draining' })).toBe('offline');
    expect(nodeStateLabel({ online: true, state: 'draining' })).toBe('draining');
    expect(nodeStateLabel({ online: true, state: 'active' })).toBe('online');
  });

  it('gives the heartbeat age in words', () => {
    expect(heartbeatText(0)).toBe('heartbeat just now');
    expect(heartbeatText(3200)).toBe('heartbeat 3.2 s ago');
    expect(heartbeatText(125_000)).toBe('heartbeat 2 min 5 s ago');
  });

  it('turns usage into bars, with a tone for high use', () => {
    const bars = usageBars({ t: 0, cpuPct: 42, memTotalBytes: 8 * GiB, memAvailableBytes: 2 * GiB, diskTotalBytes: 100 * GiB, diskFreeBytes: 5 * GiB }, 4);
    expect(bars.map((b) => [b.key, b.fraction, b.text, b.tone])).toEqual([
      ['cpu', 0.42, '42% of 4 CPUs', 'ok'],
      ['memory', 0.75, '6.0 GiB / 8.0 GiB', 'warn'],
      ['disk', 0.95, '95 GiB / 100 GiB', 'full'],
    ]);
  });

  it('shows dashes, not zeros, for a node that sent no figures', () => {
    expect(usageBars(null, 2).map((b) => [b.fraction, b.text])).toEqual([
      [null, '–'],
      [null, '–'],
      [null, '–'],
    ]);
    expect(usageBars({ t: 0, cpuPct: null, memTotalBytes: 0, memAvailableBytes: 0, diskTotalBytes: 1, diskFreeBytes: 2 }, 2)[2].fraction).toBe(0);
    expect(toneOf(null)).toBe('ok');
  });

  it('explains why Remove is refused', () => {
    expect(removeBlocker({ self: true, online: true, machines: 0 })).toMatch(/talking to/);
    expect(removeBlocker({ self: false, online: true, machines: 0 })).toMatch(/Online/);
    expect(removeBlocker({ self: false, online: false, machines: 3 })).toMatch(/3 machine/);
    expect(removeBlocker({ self: false, online: false, machines: 0 })).toBeNull();
  });
});
