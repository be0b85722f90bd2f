import type { AttemptResult } from './send';

/** Attempts per delivery (the first and four retries), waits between them doubling from BACKOFF_MS: 1, 2, 4, 8 s. */
export const MAX_ATTEMPTS = 5;
export const BACKOFF_MS = 1000;
/** Deliveries waiting at most; past it new ones are refused (and marked failed) rather than growing memory. */
export const MAX_QUEUED = 1000;
const MAX_IN_FLIGHT = 8;
/** A slow receiver holds at most this many of the slots, so others' deliveries keep going. */
const MAX_IN_FLIGHT_PER_HOOK = 2;

export interface Task {
  deliveryId: string;
  hookId: string;
  /** Attempts made so far. */
  attempts: number;
  dueAt: number;
}

export const backoffMs = (attempts: number, base = BACKOFF_MS): number => base * 2 ** Math.max(0, attempts - 1);

/**
 * The delivery queue: bounded, a few attempts at a time, each hook limited to its share, retries
 * after a doubling wait. `attempt` does the work (and its own bookkeeping); nothing here is awaited
 * by whoever enqueues, so the event bus and the routes never wait for a receiver.
 */
export class DeliveryQueue {
  private readonly waiting: Task[] = [];
  private readonly inFlight = new Map<string, number>();
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly attempt: (t: Task) => Promise<AttemptResult & { retry: boolean }>,
    private readonly opts: { backoffMs?: number; now?: () => number } = {},
  ) {}

  get size(): number {
    return this.waiting.length + this.running;
  }

  /** False when the queue is full (the caller marks the delivery failed). */
  push(t: Task): boolean {
    if (this.stopped || this.waiting.length >= MAX_QUEUED) return false;
    this.waiting.push(t);
    queueMicrotask(() => this.pump());
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.waiting.length = 0;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.now();
    let nextDue = Infinity;
    for (let i = 0; i < this.waiting.length && this.running < MAX_IN_FLIGHT;) {
      const t = this.waiting[i];
      if (t.dueAt > now || (this.inFlight.get(t.hookId) ?? 0) >= MAX_IN_FLIGHT_PER_HOOK) {
        if (t.dueAt > now) nextDue = Math.min(nextDue, t.dueAt);
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.start(t);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = nextDue < Infinity ? setTimeout(() => this.pump(), Math.max(0, nextDue - now)) : null;
    this.timer?.unref();
  }

  private start(t: Task): void {
    this.running++;
    this.inFlight.set(t.hookId, (this.inFlight.get(t.hookId) ?? 0) + 1);
    void this.attempt(t)
      .catch((e: unknown) => ({ ok: false, retry: true, responseCode: null, durationMs: 0, error: String(e) }))
      .then((r) => {
        const attempts = t.attempts + 1;
        // The attempt decided (it recorded the outcome, and when the next try is due).
        if (r.retry && !this.stopped) {
          this.waiting.push({ ...t, attempts, dueAt: this.now() + backoffMs(attempts, this.opts.backoffMs) });
        }
      })
      .finally(() => {
        this.running--;
        const n = (this.inFlight.get(t.hookId) ?? 1) - 1;
        if (n > 0) this.inFlight.set(t.hookId, n);
        else this.inFlight.delete(t.hookId);
        this.pump();
      });
  }
}
