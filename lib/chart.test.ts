import { describe, expect, it } from 'vitest';
import { linePath, memoryScale, niceCeil } from './chart';

describe('charts', () => {
  it('draws a line right-aligned in its slots, breaks it at gaps, and dots a lone point', () => {
    expect(linePath([0, 50, 100], 100, 10, 100, 3)).toBe('M0.0 10.0L50.0 5.0L100.0 0.0');
    // Two samples in four slots: the newest at the right edge.
    expect(linePath([100, 0], 90, 10, 100, 4)).toBe('M60.0 0.0L90.0 10.0');
    expect(linePath([10, null, 10], 20, 10, 10, 3)).toBe('M0.0 0.0l0.01 0M20.0 0.0l0.01 0');
    // Above the scale is drawn at the top, not off the chart.
    expect(linePath([500, 0], 10, 10, 100, 2)).toBe('M0.0 0.0L10.0 10.0');
    expect(linePath([1, 2], 10, 10, 0)).toBe('');
  });

  it('scales memory to the RAM, or above a peak that outgrows it', () => {
    expect(memoryScale(256, [100, null, 200])).toBe(256);
    expect(memoryScale(256, [300, null])).toBe(500);
  });

  it('rounds a scale up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.7, 1, 1.2, 3, 7, 42, 999, 1001].map(niceCeil)).toEqual([1, 1, 1, 2, 5, 10, 50, 1000, 2000]);
  });
});
