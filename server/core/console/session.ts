import type { ConsoleMode, ConsoleTarget } from '@/lib/contracts/console';
import { RingBuffer } from './ring-buffer';
import type { ConsoleSource } from './source';

/** One viewer's transport (a socket.io socket in production, a fake in tests). */
export interface ViewerSink {
  readonly id: string;
  output(offset: number, data: string, ack: () => void): void;
  exit(code: number | null): void;
  viewers(count: number): void;
  closed(reason: string): void;
}

interface Viewer {
  sink: ViewerSink;
  mode: ConsoleMode;
  /** Characters sent and not yet acknowledged. */
  inFlight: number;
  lastAckAt: number;
}

export interface SessionOptions {
  scrollbackChars: number;
  /** Pause the source while any viewer has more than this unacknowledged. */
  highWater?: number;
  lowWater?: number;
  /** A viewer that acknowledges nothing for this long while the source is paused is dropped. */
  stallMs?: number;
}

const BATCH_MAX = 262144;

/**
 * A console that lives in the server, independent of viewers: output goes into a ring
 * buffer and to every attached viewer; input comes from interactive viewers only. Output
 * is acknowledged per chunk, and a slow viewer pauses the source instead of growing memory.
 */
export class ConsoleSession {
  readonly ring: RingBuffer;
  private readonly viewers = new Map<string, Viewer>();
  private pending = '';
  private flushScheduled = false;
  private paused = false;
  private stallTimer: NodeJS.Timeout | null = null;
  exited = false;
  exitCode: number | null = null;
  lastViewerAt = Date.now();
  private readonly high: number;
  private readonly low: number;
  private readonly stallMs: number;

  constructor(
    readonly id: string,
    readonly target: ConsoleTarget,
    readonly ownerId: string | null,
    private readonly source: ConsoleSource,
    opts: SessionOptions,
  ) {
    this.ring = new RingBuffer(opts.scrollbackChars);
    this.high = opts.highWater ?? 1024 * 1024;
    this.low = opts.lowWater ?? 256 * 1024;
    this.stallMs = opts.stallMs ?? 30_000;
    source.onData((d) => this.onData(d));
    source.onExit((code) => this.onExit(code));
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  attach(sink: ViewerSink, mode: ConsoleMode, since?: number): { replay: string; offset: number; truncated: boolean } {
    this.flush();
    const { data, truncated } = this.ring.since(since);
    this.viewers.set(sink.id, { sink, mode, inFlight: 0, lastAckAt: Date.now() });
    this.lastViewerAt = Date.now();
    this.announceViewers();
    return { replay: data, offset: this.ring.end, truncated };
  }

  detach(viewerId: string): void {
    if (!this.viewers.delete(viewerId)) return;
    this.lastViewerAt = Date.now();
    this.announceViewers();
    this.maybeResume();
  }

  modeOf(viewerId: string): ConsoleMode | undefined {
    return this.viewers.get(viewerId)?.mode;
  }

  /** Keystrokes from read-only viewers are dropped here, whatever the client sends. */
  input(viewerId: string, data: string): boolean {
    const v = this.viewers.get(viewerId);
    if (!v || v.mode !== 'interactive' || this.exited) return false;
    this.source.write(data);
    return true;
  }

  resize(viewerId: string, cols: number, rows: number): boolean {
    const v = this.viewers.get(viewerId);
    if (!v || v.mode !== 'interactive' || this.exited) return false;
    this.source.resize(cols, rows);
    return true;
  }

  close(reason: string): void {
    for (const v of this.viewers.values()) v.sink.closed(reason);
    this.viewers.clear();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (!this.exited) this.source.close();
  }

  private onData(data: string): void {
    this.pending += data;
    if (this.pending.length >= BATCH_MAX) this.flush();
    else if (!this.flushScheduled) {
      // setImmediate, not a timer: an echo goes out in the same turn of the loop (latency),
      // while a burst of pty reads in one turn still goes out as one message (throughput).
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.pending) return;
    const data = this.pending;
    this.pending = '';
    this.ring.append(data);
    const offset = this.ring.end;
    for (const v of this.viewers.values()) {
      v.inFlight += data.length;
      v.sink.output(offset, data, () => {
        v.inFlight -= data.length;
        v.lastAckAt = Date.now();
        this.maybeResume();
      });
    }
    if (!this.paused && [...this.viewers.values()].some((v) => v.inFlight > this.high)) {
      this.paused = true;
      this.source.pause();
      this.stallTimer = setTimeout(() => this.dropStalled(), this.stallMs);
    }
  }

  private maybeResume(): void {
    if (!this.paused || [...this.viewers.values()].some((v) => v.inFlight > this.low)) return;
    this.paused = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.source.resume();
  }

  private dropStalled(): void {
    this.stallTimer = null;
    const now = Date.now();
    for (const [id, v] of this.viewers) {
      if (v.inFlight > this.low && now - v.lastAckAt >= this.stallMs) {
        v.sink.closed('This viewer stopped reading output and was disconnected.');
        this.viewers.delete(id);
      }
    }
    this.announceViewers();
    this.maybeResume();
    if (this.paused) this.stallTimer = setTimeout(() => this.dropStalled(), this.stallMs);
  }

  private onExit(code: number | null): void {
    this.flush();
    this.exited = true;
    this.exitCode = code;
    for (const v of this.viewers.values()) v.sink.exit(code);
  }

  private announceViewers(): void {
    for (const v of this.viewers.values()) v.sink.viewers(this.viewers.size);
  }
}
