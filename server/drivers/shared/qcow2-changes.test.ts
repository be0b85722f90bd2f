import { describe, expect, it } from 'vitest';
import { touches } from './qcow2-changes';

describe('touches', () => {
  const ranges: [number, number][] = [
    [0, 10],
    [100, 200],
    [500, 600],
  ];
  it('finds a range that meets [start, end), and none in the gaps', () => {
    expect(touches(ranges, 5, 6)).toBe(true);
    expect(touches(ranges, 10, 100)).toBe(false);
    expect(touches(ranges, 199, 300)).toBe(true);
    expect(touches(ranges, 200, 500)).toBe(false);
    expect(touches(ranges, 450, 501)).toBe(true);
    expect(touches(ranges, 600, 700)).toBe(false);
    expect(touches([], 0, 1)).toBe(false);
  });
});
