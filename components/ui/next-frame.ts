/**
 * Run `fn` once before the next paint (requestAnimationFrame), or after `fallbackMs` if no
 * frame comes first: a hidden tab paints nothing, and what waits for a frame there (socket
 * acks, cache updates) must still happen. Returns a cancel function.
 */
export function onNextFrame(fn: () => void, fallbackMs = 250): () => void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    fn();
  };
  const frame = requestAnimationFrame(run);
  const timer = setTimeout(run, fallbackMs);
  return () => {
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

/**
 * Items gathered until the next frame, then handed to `apply` all at once: one update per frame
 * however many events arrived (a thousand machines changing state every second are ~16 per frame).
 */
export class FrameBatch<T> {
  private items: T[] = [];
  private cancel: (() => void) | null = null;

  constructor(
    private readonly apply: (items: T[]) => void,
    private readonly schedule: (fn: () => void) => () => void = onNextFrame,
  ) {}

  push(item: T): void {
    this.items.push(item);
    this.cancel ??= this.schedule(() => this.flush());
  }

  /** Apply what is waiting now (before something that must see it). */
  flush(): void {
    this.cancel?.();
    this.cancel = null;
    if (!this.items.length) return;
    const items = this.items;
    this.items = [];
    this.apply(items);
  }

  /** Drop what is waiting (the page is going away). */
  dispose(): T[] {
    this.cancel?.();
    this.cancel = null;
    const left = this.items;
    this.items = [];
    return left;
  }
}
