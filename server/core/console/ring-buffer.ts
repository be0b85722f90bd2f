/**
 * Recent console output, addressed by absolute offsets (UTF-16 units since the session
 * began), so a viewer that reconnects asks for "everything after N" and sees nothing twice.
 */
export class RingBuffer {
  private chunks: string[] = [];
  private length = 0;
  /** Offset of the first character still held. */
  private startOffset = 0;

  constructor(private readonly capacity: number) {
    if (capacity <= 0) throw new RangeError('capacity must be positive');
  }

  get end(): number {
    return this.startOffset + this.length;
  }

  get start(): number {
    return this.startOffset;
  }

  append(data: string): void {
    if (!data) return;
    this.chunks.push(data);
    this.length += data.length;
    while (this.length > this.capacity) {
      const first = this.chunks[0];
      const excess = this.length - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.length -= first.length;
        this.startOffset += first.length;
      } else {
        this.chunks[0] = first.slice(excess);
        this.length -= excess;
        this.startOffset += excess;
      }
    }
    // Many tiny chunks (one per keystroke echo) make since() slow: merge now and then.
    if (this.chunks.length > 256) this.chunks = [this.chunks.join('')];
  }

  /** Output after `offset` (all held output when omitted); `truncated` when part of it was dropped. */
  since(offset?: number): { data: string; truncated: boolean } {
    const all = this.chunks.join('');
    if (offset === undefined) return { data: all, truncated: this.startOffset > 0 };
    if (offset === this.end) return { data: '', truncated: false };
    // Before what we hold, or past our end (the viewer saw an earlier session under this id): start over.
    if (offset < this.startOffset || offset > this.end) return { data: all, truncated: true };
    return { data: all.slice(offset - this.startOffset), truncated: false };
  }
}
