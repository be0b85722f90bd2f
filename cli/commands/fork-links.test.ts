import { describe, expect, it } from 'vitest';
import { seconds } from './fork-links';

describe('fork-link durations', () => {
  it('reads 90s, 30m, 2h, 1d and plain seconds', () => {
    expect([seconds('lifetime', '90s'), seconds('lifetime', '30m'), seconds('lifetime', '2h'), seconds('expires', '1d'), seconds('x', '45')]).toEqual([
      90, 1800, 7200, 86400, 45,
    ]);
    expect(seconds('lifetime', undefined)).toBeUndefined();
  });

  it('refuses anything else as a usage error naming the option', () => {
    for (const bad of ['2x', '-1h', '1.5h', 'h', ''])
      expect(() => seconds('lifetime', bad)).toThrow(expect.objectContaining({ message: expect.stringContaining(`--lifetime ${bad}:`) }));
  });
});
