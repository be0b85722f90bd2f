import type { Page } from '@playwright/test';
import { percentile, round } from './stats';

// What the ui bench measures in a page: frame times and the JavaScript a first visit loads.

/** Frame-to-frame times (requestAnimationFrame) in the page for `ms`, and the long tasks (> 50 ms) meanwhile. */
export async function frameDeltas(page: Page, ms: number): Promise<{ deltas: number[]; long: number }> {
  // A script string: tsx would wrap a function's inner helpers in __name(), which the page does not have.
  const r = (await page.evaluate(`new Promise((resolve) => {
    const deltas = [];
    let long = 0;
    const obs = new PerformanceObserver((l) => { long += l.getEntries().length; });
    try { obs.observe({ type: 'longtask', buffered: false }); } catch { /* no long task timing: counted as none */ }
    let last = performance.now();
    const end = last + ${ms};
    function step(t) {
      deltas.push(t - last);
      last = t;
      if (t < end) requestAnimationFrame(step);
      else { obs.disconnect(); resolve({ deltas, long }); }
    }
    requestAnimationFrame(step);
  })`)) as { deltas: number[]; long: number };
  return { deltas: r.deltas.slice(1), long: r.long };
}

export function frameStats(runs: { deltas: number[]; long: number }[]) {
  const d = runs.flatMap((r) => r.deltas);
  return {
    p50: round(percentile(d, 50), 1),
    p95: round(percentile(d, 95), 1),
    p99: round(percentile(d, 99), 1),
    max: round(Math.max(...d), 1),
    frames: d.length,
    longTasks: runs.reduce((a, r) => a + r.long, 0),
  };
}

/** Bytes of JavaScript a first visit downloads (no cache): over the wire, and decoded. */
export async function firstLoadJs(page: Page, url: string): Promise<{ transferKb: number; decodedKb: number; files: number }> {
  await page.goto(url, { waitUntil: 'networkidle' });
  const js = await page.evaluate(() =>
    (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => e.name.endsWith('.js'))
      .map((e) => ({ transfer: e.transferSize, decoded: e.decodedBodySize })),
  );
  return {
    transferKb: round(js.reduce((a, e) => a + e.transfer, 0) / 1024, 1),
    decodedKb: round(js.reduce((a, e) => a + e.decoded, 0) / 1024, 1),
    files: js.length,
  };
}
