import { randomBytes } from 'node:crypto';
import type { ConsoleMode, ConsolePresence, ConsoleTarget } from '@/lib/contracts/console';
import { formatMarkerLabel } from '@/lib/recording-markers';
import { CommandSpotter } from './command-spotter';
import { RingBuffer } from './ring-buffer';
import type { ConsoleSource } from '@/server/drivers/types';

/** One viewer's transport (a socket.io socket in production, a fake in tests). */
export interface ViewerSink {
  readonly id: string;
  output(offset: number, data: string, ack: () => void): void;
  exit(code: number | null): void;
  /** Who is watching, who holds the keyboard (a presence id, or null when any operator may type), and which one is you. */
  viewers(list: ConsolePresence[], keyboard: string | null, you: string): void;
  closed(reason: string): void;
}

/** Who a viewer is, as other viewers see them. */
export interface ViewerIdentity {
  name: string;
  via: ConsolePresence['via'];
}

/** Where a session's output is also written (an asciicast recording). */
export interface OutputRecorder {
  output(data: string): void;
  resize(cols: number, rows: number): void;
  /** A marker event (a checkpoint, restore, fork or command) at this instant. */
  marker?(label: string): void;
  close(): void;
}

interface Viewer {
  sink: ViewerSink;
  mode: ConsoleMode;
  /** An opaque id other viewers see (never the socket's). */
  presenceId: string;
  who: ViewerIdentity;
  /** Characters sent and not yet acknowledged. */
  inFlight: number;
  lastAckAt: number;
}

export interface SessionOptions {
  scrollbackChars: number;
  /**
   * Pause the source while any viewer has more than this unacknowledged. A browser acks a message
   * once xterm has parsed it, a frame or more later: 2 MB keeps its pipe full at the ~8 MB/s a
   * page draws (1 MB let it run dry, 0.72-0.77x a Node client's rate against 0.85-0.89x), and is
   * a quarter second of output still to come after a Ctrl+C in a flood.
   */
  highWater?: number;
  lowWater?: number;
  /** A viewer that acknowledges nothing for this long while the source is paused is dropped. */
  stallMs?: number;
  /** While a viewer has more than this unacknowledged, output is gathered into bigger messages (see scheduleFlush). */
  holdAbove?: number;
}

const BATCH_MAX = 262144;
/** Output this short, read while nothing is waiting to go out, is sent at once: an echo. */
const ECHO_MAX = 64;
/** The longest output is held for a viewer that is behind. */
const HOLD_MAX_MS = 25;

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
  /** Output was sent at once in this turn of the loop (see onData). */
  private sentThisTurn = false;
  private holdTimer: NodeJS.Timeout | null = null;
  private paused = false;
  private stallTimer: NodeJS.Timeout | null = null;
  exited = false;
  exitCode: number | null = null;
  private exitWaiters: (() => void)[] = [];
  lastViewerAt = Date.now();
  /** The viewer holding the keyboard; null: every interactive viewer may type. */
  private keyboard: string | null = null;
  private recorder: OutputRecorder | null = null;
  /** While recorded: commands typed at a prompt become markers. */
  private spotter: CommandSpotter | null = null;
  private readonly high: number;
  private readonly low: number;
  private readonly stallMs: number;
  private readonly holdAbove: number;

  constructor(
    readonly id: string,
    readonly target: ConsoleTarget,
    readonly ownerId: string | null,
    private readonly source: ConsoleSource,
    opts: SessionOptions,
  ) {
    this.ring = new RingBuffer(opts.scrollbackChars);
    this.high = opts.highWater ?? 2 * 1024 * 1024;
    this.low = opts.lowWater ?? 512 * 1024;
    this.stallMs = opts.stallMs ?? 30_000;
    this.holdAbove = opts.holdAbove ?? 64 * 1024;
    source.onData((d) => this.onData(d));
    source.onExit((code) => this.onExit(code));
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Record output from now on (a session opened on a machine that records its consoles). */
  record(recorder: OutputRecorder): void {
    this.recorder = recorder;
    if (recorder.marker) this.spotter = new CommandSpotter();
  }

  /** A marker in this session's recording, after the output that came before it. */
  mark(label: string): void {
    if (!this.recorder?.marker || this.exited) return;
    this.flush();
    this.recorder.marker(label);
  }

  get recording(): boolean {
    return this.recorder !== null;
  }

  attach(
    sink: ViewerSink,
    mode: ConsoleMode,
    since?: number,
    who: ViewerIdentity = { name: 'someone', via: 'session' },
  ): { replay: string; offset: number; truncated: boolean } {
    this.flush();
    const { data, truncated } = this.ring.since(since);
    const presenceId = this.viewers.get(sink.id)?.presenceId ?? randomBytes(6).toString('hex');
    this.viewers.set(sink.id, { sink, mode, presenceId, who, inFlight: 0, lastAckAt: Date.now() });
    this.lastViewerAt = Date.now();
    this.announceViewers();
    return { replay: data, offset: this.ring.end, truncated };
  }

  detach(viewerId: string): void {
    if (!this.viewers.delete(viewerId)) return;
    if (this.keyboard === viewerId) this.keyboard = null;
    this.lastViewerAt = Date.now();
    this.announceViewers();
    this.maybeResume();
  }

  modeOf(viewerId: string): ConsoleMode | undefined {
    return this.viewers.get(viewerId)?.mode;
  }

  /** Whether this viewer's keys reach the source: interactive, and the keyboard is free or theirs. */
  private mayType(viewerId: string): boolean {
    const v = this.viewers.get(viewerId);
    return !!v && v.mode === 'interactive' && !this.exited && (this.keyboard === null || this.keyboard === viewerId);
  }

  /** Keystrokes from read-only viewers (and from operators while another holds the keyboard) are dropped here, whatever the client sends. */
  input(viewerId: string, data: string): boolean {
    if (!this.mayType(viewerId)) return false;
    this.source.write(data);
    this.spotter?.input(data);
    return true;
  }

  resize(viewerId: string, cols: number, rows: number): boolean {
    if (!this.mayType(viewerId)) return false;
    this.source.resize(cols, rows);
    this.recorder?.resize(cols, rows);
    return true;
  }

  /**
   * The keyboard: an interactive viewer takes it while it is free (the others then watch),
   * the holder gives it to another interactive viewer or lets it go; it is free again when
   * the holder leaves. Returns why not, or null when done.
   */
  keyboardAction(viewerId: string, action: 'take' | 'release' | 'give', toPresenceId?: string): string | null {
    const v = this.viewers.get(viewerId);
    if (!v) return 'You are not attached to this console.';
    if (v.mode !== 'interactive') return 'Read-only viewers cannot hold the keyboard.';
    const holder = this.keyboard ? this.viewers.get(this.keyboard) : undefined;
    switch (action) {
      case 'take':
        if (this.keyboard !== null && this.keyboard !== viewerId) return `${holder?.who.name ?? 'Someone'} has the keyboard: ask them to hand it over.`;
        this.keyboard = viewerId;
        break;
      case 'release':
        if (this.keyboard !== viewerId) return 'You do not hold the keyboard.';
        this.keyboard = null;
        break;
      case 'give': {
        if (this.keyboard !== null && this.keyboard !== viewerId) return `${holder?.who.name ?? 'Someone'} has the keyboard.`;
        const to = [...this.viewers].find(([, o]) => o.presenceId === toPresenceId);
        if (!to) return 'That viewer has left.';
        if (to[1].mode !== 'interactive') return `${to[1].who.name} is read-only here and cannot type.`;
        this.keyboard = to[0];
        break;
      }
    }
    this.announceViewers();
    return null;
  }

  /**
   * Close once the source has told its end (or after graceMs): a machine noticed gone by the
   * monitor may still have its exit code on the way, and viewers (run -it) wait for it.
   */
  closeAfterExit(reason: string, graceMs: number): void {
    if (this.exited) return this.close(reason);
    const timer = setTimeout(() => this.close(reason), graceMs);
    this.exitWaiters.push(() => {
      clearTimeout(timer);
      this.close(reason);
    });
  }

  close(reason: string): void {
    this.exitWaiters = [];
    for (const v of this.viewers.values()) v.sink.closed(reason);
    this.viewers.clear();
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    if (!this.exited) this.source.close();
    this.recorder?.close();
    this.recorder = null;
  }

  private onData(data: string): void {
    this.pending += data;
    if (this.pending.length >= BATCH_MAX) this.flush();
    else if (this.pending.length <= ECHO_MAX && !this.flushScheduled && !this.sentThisTurn && !this.behind()) {
      // A keystroke's echo goes out now, not at the end of the turn: under load the turn's end
      // waits for the HTTP requests queued ahead of it (TurnSlicer), 4-7 ms at p99 when measured.
      // What else is read in this turn is gathered as below.
      this.sentThisTurn = true;
      setImmediate(() => (this.sentThisTurn = false));
      this.flush();
    } else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.behind()) {
      // A viewer still working through earlier output (a browser parsing and painting a flood)
      // gains nothing from more small messages, and each costs it and us as much as a big one:
      // gather output until it acknowledges (or HOLD_MAX_MS), as Nagle does for TCP. A viewer
      // that keeps up never holds anything back.
      this.holdTimer = setTimeout(() => this.flush(), HOLD_MAX_MS);
    } else {
      // setImmediate, not a timer: an echo goes out in the same turn of the loop (latency),
      // while a burst of pty reads in one turn still goes out as one message (throughput).
      setImmediate(() => this.flush());
    }
  }

  private behind(): boolean {
    for (const v of this.viewers.values()) if (v.inFlight > this.holdAbove) return true;
    return false;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (!this.pending) return;
    const data = this.pending;
    this.pending = '';
    this.ring.append(data);
    this.recorder?.output(data);
    if (this.spotter) for (const cmd of this.spotter.output(data)) this.recorder?.marker?.(formatMarkerLabel('command', cmd));
    const offset = this.ring.end;
    for (const v of this.viewers.values()) {
      v.inFlight += data.length;
      v.sink.output(offset, data, () => {
        v.inFlight -= data.length;
        v.lastAckAt = Date.now();
        this.maybeResume();
        if (this.holdTimer && !this.behind()) this.flush();
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
    this.recorder?.close();
    this.recorder = null;
    for (const w of this.exitWaiters.splice(0)) w();
  }

  presence(): ConsolePresence[] {
    return [...this.viewers.values()].map((v) => ({ id: v.presenceId, name: v.who.name, via: v.who.via, mode: v.mode }));
  }

  private announceViewers(): void {
    const list = this.presence();
    const keyboard = this.keyboard ? (this.viewers.get(this.keyboard)?.presenceId ?? null) : null;
    for (const v of this.viewers.values()) v.sink.viewers(list, keyboard, v.presenceId);
  }
}
