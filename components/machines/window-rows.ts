'use client';

import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';

export interface RowRange {
  /** First row rendered. */
  start: number;
  /** One past the last row rendered. */
  end: number;
}

/**
 * The rows of a list of `count` rows `rowHeight` high, its first row `listTop` pixels below the
 * top of the page, that a window scrolled to `scrollY` and `viewport` high shows, widened by
 * `overscan` rows each way (the rows the keyboard reaches next are there before they are seen).
 */
export function visibleRows(p: { count: number; rowHeight: number; listTop: number; scrollY: number; viewport: number; overscan: number }): RowRange {
  const h = Math.max(1, p.rowHeight);
  const first = Math.floor((p.scrollY - p.listTop) / h);
  const last = Math.ceil((p.scrollY + p.viewport - p.listTop) / h);
  const start = Math.min(p.count, Math.max(0, first - p.overscan));
  const end = Math.min(p.count, Math.max(0, last + p.overscan));
  if (end > start) return { start, end };
  // The list is off screen: keep the rows at its near end, so its height (and the scroll) stays.
  return first >= p.count ? { start: Math.max(0, p.count - p.overscan), end: p.count } : { start: 0, end: Math.min(p.count, p.overscan) };
}

/**
 * Which rows of a long table to render, with the page (not a box in it) scrolling: only those on
 * screen and a few around, so a thousand machines cost what forty do. Rows are one height (the
 * first rendered row is measured); `bodyRef` goes on the tbody. Lists up to `from` rows render
 * whole (find-in-page and every test see every row); `root` is observed for what moves the list
 * (a form opening above it, the toolbar wrapping).
 */
export function useWindowRows(count: number, opts: { from: number; estimate: number; overscan: number; root: RefObject<HTMLElement | null> }) {
  const bodyRef = useRef<HTMLTableSectionElement | null>(null);
  const [rowHeight, setRowHeight] = useState(opts.estimate);
  const virtual = count > opts.from;
  const [range, setRange] = useState<RowRange>(() => ({ start: 0, end: Math.min(count, 50) }));
  const { overscan, root } = opts;

  const update = useCallback(() => {
    const body = bodyRef.current;
    if (!body) return;
    const listTop = body.getBoundingClientRect().top + window.scrollY;
    const next = visibleRows({ count, rowHeight, listTop, scrollY: window.scrollY, viewport: window.innerHeight, overscan });
    setRange((prev) => (prev.start === next.start && prev.end === next.end ? prev : next));
  }, [count, rowHeight, overscan]);

  useLayoutEffect(() => {
    if (virtual) update();
  }, [virtual, update]);

  useEffect(() => {
    if (!virtual) return;
    let frame = 0;
    // Scroll events come many per frame: the range is worked out once per frame.
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(() => ((frame = 0), update()));
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    const ro = new ResizeObserver(onScroll);
    if (root.current) ro.observe(root.current);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
      ro.disconnect();
    };
  }, [virtual, update, root]);

  const shown = virtual ? { start: Math.min(range.start, count), end: Math.min(range.end, count) } : { start: 0, end: count };

  // The real row height (fonts, zoom): measured on the first row rendered, when the rows rendered change.
  useLayoutEffect(() => {
    if (!virtual) return;
    const row = bodyRef.current?.querySelector<HTMLElement>('tr[data-index]');
    const h = row?.getBoundingClientRect().height;
    if (h && Math.abs(h - rowHeight) > 0.25) setRowHeight(h);
  }, [virtual, shown.start, shown.end, rowHeight]);

  return {
    bodyRef,
    start: shown.start,
    end: shown.end,
    /** Space for the rows above and below those rendered. */
    padTop: shown.start * rowHeight,
    padBottom: (count - shown.end) * rowHeight,
  };
}
