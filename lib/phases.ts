/** Marks the end of a named phase of one operation (drivers see only this). */
export interface PhaseMarks {
  mark(name: string): void;
  /** Time work that runs beside the critical path (see PhaseTimer). */
  beside?<T>(name: string, work: Promise<T>): Promise<T>;
}

/**
 * Where the time of one operation goes, cheaply enough to stay on in production: `mark(name)`
 * gives the time since the previous mark to `name` (in ms); `beside(name, promise)` times work
 * that runs next to the critical path without moving the mark. Read back with `record()`.
 */
export class PhaseTimer implements PhaseMarks {
  private last: number;
  private readonly phases: Record<string, number> = {};

  constructor(private readonly t0 = performance.now()) {
    this.last = t0;
  }

  mark(name: string): void {
    const now = performance.now();
    this.add(name, now - this.last);
    this.last = now;
  }

  async beside<T>(name: string, work: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work;
    } finally {
      this.add(name, performance.now() - start);
    }
  }

  /** Milliseconds since the timer began. */
  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** The phases in the order they ended, each in ms to 0.1 ms. */
  record(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.phases).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  }

  private add(name: string, ms: number): void {
    this.phases[name] = (this.phases[name] ?? 0) + ms;
  }
}
