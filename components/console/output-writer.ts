/** What the writer needs of an xterm Terminal. */
export interface WriteTarget {
  write(data: string, parsed?: () => void): void;
}

/** A stream's writes to xterm are at least this far apart. */
const GAP_MS = 32;
/** A write this big is part of a stream (a keystroke's echo is a few bytes). */
const STREAM_CHARS = 4096;

/**
 * Console output into xterm, coalesced. Output that arrives while the console is quiet is written
 * at once (a keystroke's echo waits for nothing); output that streams is gathered and written at
 * most every GAP_MS, as one string. xterm parses one write in one go and paints after it, so a
 * flood costs about 30 paints a second instead of 60 and one write per batch instead of one per
 * socket message: in headless Chromium without a GPU, painting the DOM renderer took as much of
 * the page's time as parsing. Each chunk's `done` (its socket ack) runs once xterm has parsed
 * it, so the server's flow control still sees how far the page got.
 */
export class OutputWriter {
  private busy = false;
  private waiting: string[] = [];
  private dones: (() => void)[] = [];
  /** When the last write that was part of a stream went to xterm. */
  private lastWrite = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(
    private readonly term: WriteTarget,
    private readonly gapMs = GAP_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  write(data: string, done?: () => void): void {
    if (this.disposed) return done?.();
    if (data) this.waiting.push(data);
    if (done) this.dones.push(done);
    this.pump();
  }

  /** Forget output not yet handed to xterm (the terminal is reset); its acks still go out. */
  drop(): void {
    const dones = this.dones;
    this.waiting = [];
    this.dones = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    dones.forEach((d) => d());
  }

  dispose(): void {
    this.disposed = true;
    this.drop();
  }

  private pump(): void {
    if (this.disposed || this.busy || this.timer || (!this.waiting.length && !this.dones.length)) return;
    const wait = this.lastWrite + this.gapMs - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, wait);
      return;
    }
    const chunks = this.waiting;
    const dones = this.dones;
    this.waiting = [];
    this.dones = [];
    const data = chunks.length === 1 ? chunks[0] : chunks.join('');
    this.busy = true;
    if (data.length >= STREAM_CHARS) this.lastWrite = this.now();
    this.term.write(data, () => {
      this.busy = false;
      dones.forEach((d) => d());
      this.pump();
    });
  }
}
