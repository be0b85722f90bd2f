/**
 * Keys taken by several holders at once (viewers of a machine, moves standing on an image): a key is held while any
 * holder has not let go. `take` returns the holder's release, which counts once however often it is called.
 */
export class RefCounts<K> {
  private readonly counts = new Map<K, number>();

  take(key: K): () => void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
    };
  }

  has(key: K): boolean {
    return this.counts.has(key);
  }
}
