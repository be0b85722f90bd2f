import { describe, expect, it } from 'vitest';
import { discardBody } from './app';

const chunks = (sizes: number[], delayMs = 0) =>
  new ReadableStream<Uint8Array>({
    async start(c) {
      for (const n of sizes) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        c.enqueue(new Uint8Array(n));
      }
      c.close();
    },
  });

describe('discardBody: the rest of a refused body', () => {
  it('reads it to its end', async () => {
    expect(await discardBody(chunks([1000, 2000, 3000]), 10_000, 1000)).toBe(true);
    expect(await discardBody(null, 10, 1000)).toBe(true);
  });
  it('gives up past the byte cap', async () => {
    expect(await discardBody(chunks([6000, 6000]), 10_000, 1000)).toBe(false);
  });
  it('gives up when the client is too slow', async () => {
    const t0 = Date.now();
    expect(await discardBody(chunks([10, 10, 10], 200), 10_000, 100)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
  it('leaves a body someone else reads', async () => {
    const body = chunks([10]);
    body.getReader();
    expect(await discardBody(body, 10_000, 1000)).toBe(false);
  });
});
