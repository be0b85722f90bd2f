import { describe, expect, it } from 'vitest';
import { backoffMs, DeliveryQueue, MAX_QUEUED, type Task } from './queue';

const ok = { ok: true, responseCode: 200, durationMs: 1, error: null, retry: false };

describe('the delivery queue', () => {
  it('doubles the wait between attempts', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 100))).toEqual([100, 200, 400, 800]);
  });

  it('retries when the attempt says so, after the backoff, then stops', async () => {
    const seen: number[] = [];
    let calls = 0;
    const q = new DeliveryQueue(
      async (t) => {
        seen.push(t.attempts);
        calls++;
        return calls < 3 ? { ...ok, ok: false, responseCode: 500, retry: true } : ok;
      },
      { backoffMs: 5 },
    );
    q.push({ deliveryId: 'd', hookId: 'h', attempts: 0, dueAt: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([0, 1, 2]);
    expect(q.size).toBe(0);
  });

  it('keeps a hung receiver to its share: other hooks are delivered meanwhile', async () => {
    const done: string[] = [];
    const q = new DeliveryQueue(async (t: Task) => {
      if (t.hookId === 'slow') await new Promise(() => {});
      done.push(t.deliveryId);
      return ok;
    });
    for (let i = 0; i < 20; i++) q.push({ deliveryId: `s${i}`, hookId: 'slow', attempts: 0, dueAt: 0 });
    q.push({ deliveryId: 'fast', hookId: 'fast', attempts: 0, dueAt: 0 });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toEqual(['fast']);
    q.stop();
  });

  it('is bounded: past MAX_QUEUED a push is refused', () => {
    const q = new DeliveryQueue(() => new Promise(() => {}));
    let accepted = 0;
    for (let i = 0; i < MAX_QUEUED + 50; i++) if (q.push({ deliveryId: `d${i}`, hookId: `h${i}`, attempts: 0, dueAt: Date.now() + 60_000 })) accepted++;
    expect(accepted).toBe(MAX_QUEUED);
    q.stop();
  });
});
