/** Request work one turn of the event loop may take before the rest waits for the next turn. */
const BUDGET_MS = 4;

type Defer = (fn: () => void) => void;

/**
 * HTTP requests spread over the event loop's turns, so a burst of them cannot hold up a console.
 * With 200 requests in flight they arrive together: run as they come, their handlers took one
 * turn of 40-80 ms (0.2-0.4 ms each), and a console's echo, whose output is sent at the end of
 * a turn, waited behind all of them.
 *
 * Each request starts in a setImmediate callback (Node runs the promise jobs of one callback
 * before the next, so a handler's awaits on synchronous work finish inside its own slot). Once
 * this turn's requests have taken BUDGET_MS, the ones still waiting move to the next turn, in
 * their order and ahead of requests that arrive meanwhile; between the two turns the loop reads
 * its sockets and ptys and sends what a console has to send. A request on a quiet server starts
 * in the same turn, a few microseconds later.
 */
export class TurnSlicer {
  /** When this turn's requests began (-1: none yet this turn). */
  private sliceStart = -1;
  /** A reset of sliceStart is queued for the next turn. */
  private resetQueued = false;

  constructor(
    private readonly budgetMs = BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
    private readonly defer: Defer = (fn) => void setImmediate(fn),
  ) {}

  run(fn: () => void): void {
    this.defer(() => this.step(fn));
  }

  private step(fn: () => void): void {
    const t = this.now();
    if (this.sliceStart < 0) {
      this.sliceStart = t;
      this.queueReset();
    } else if (t - this.sliceStart >= this.budgetMs) {
      // Queued after the reset, so the next turn starts a fresh slice before it.
      this.queueReset();
      this.defer(() => this.step(fn));
      return;
    }
    fn();
  }

  private queueReset(): void {
    if (this.resetQueued) return;
    this.resetQueued = true;
    this.defer(() => {
      this.resetQueued = false;
      this.sliceStart = -1;
    });
  }
}
