/**
 * Bulk background work (backup uploads: reading, hashing and compressing a snapshot's files)
 * yields while a guest is paused for a checkpoint: the pause is what the guest feels, and on a
 * small host an upload running beside it doubles or triples it. Checkpoints hold the gate for
 * the driver's part (pause, state, resume); uploads wait for it between chunks (at most one
 * chunk of theirs is in flight meanwhile).
 */
export class QuietGate {
  private holds = 0;
  private waiters: (() => void)[] = [];

  /** Hold the gate until the returned function is called (once; later calls do nothing). */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      const waiting = this.waiters;
      this.waiters = [];
      for (const w of waiting) w();
    };
  }

  get busy(): boolean {
    return this.holds > 0;
  }

  /** Resolves at once when nobody holds the gate, else when the last hold is released. */
  idle(): Promise<void> {
    return this.holds === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/** The one gate of this server process: live and disk checkpoints hold it, backup uploads wait on it. */
export const checkpointQuiet = new QuietGate();
