import { describe, expect, it } from 'vitest';
import { visibleRows } from './window-rows';

const base = { count: 1000, rowHeight: 40, listTop: 250, viewport: 800, overscan: 10 };

describe('visibleRows', () => {
  it('renders the rows on screen and the overscan around them', () => {
    expect(visibleRows({ ...base, scrollY: 0 })).toEqual({ start: 0, end: 24 });
    // 20,250 px down: row 500 is at the top of the window, row 520 at its bottom.
    expect(visibleRows({ ...base, scrollY: 20_250 })).toEqual({ start: 490, end: 530 });
  });

  it('stops at the ends of the list', () => {
    expect(visibleRows({ ...base, scrollY: 39_800 })).toEqual({ start: 978, end: 1000 });
    expect(visibleRows({ ...base, count: 5, scrollY: 0 })).toEqual({ start: 0, end: 5 });
  });

  it('keeps the near end rendered when the list is off screen (the page scrolled past it, or not yet to it)', () => {
    expect(visibleRows({ ...base, scrollY: 60_000 })).toEqual({ start: 990, end: 1000 });
    expect(visibleRows({ ...base, listTop: 5_000, scrollY: 0 })).toEqual({ start: 0, end: 10 });
    expect(visibleRows({ ...base, count: 0, scrollY: 0 })).toEqual({ start: 0, end: 0 });
  });
});
