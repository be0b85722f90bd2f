import fs from 'node:fs';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { ConsoleSource } from '../types';

/** How much of an old log a newly opened console starts with (the session's ring buffer keeps less anyway). */
const START_TAIL = 1024 * 1024;
const CHUNK = 64 * 1024;

/**
 * A console read from a log file and typed into through a socket: QEMU's serial chardev, or a
 * container's console holder (holder.ts), which work alike. The log holds everything the guest
 * printed since the process started, whether or not anyone was attached, so boot
 * messages are never missed and a restarted server simply reads on. Input goes through the
 * socket, whose own output copy is read and dropped (else QEMU would stall the guest).
 * Pausing stops reading the log: the file, not memory, holds what a slow viewer has not taken.
 *
 * The console is the console of one process: it ends when that process does, even when another
 * takes its place between two polls (a restore replaces QEMU within 250 ms at times, and a console
 * asking only "is one running" read on as if nothing had ended, its viewers waiting out the closed
 * session's grace). Opened before the process is known (QEMU's pid file comes a moment after its
 * start), the first one a poll sees is its process.
 */
export function logConsole(
  /** No `serialSock`: a log only (an adopted machine's journal), what is typed is dropped. */
  files: { serialLog: string; serialSock?: string },
  /** Which process writes the log now (its pid, or another identity), null when none does. */
  processOf: () => number | string | null,
  /** The exit code of what ended (a console holder's command), read once it has; null when unknown. */
  exitCode?: () => number | null,
): ConsoleSource {
  let owner = processOf();
  /** Whether the console's process still runs, ended, or another took its place. */
  const state = (): 'running' | 'ended' | 'replaced' => {
    const now = processOf();
    owner ??= now;
    return now === null ? 'ended' : now === owner ? 'running' : 'replaced';
  };
  let dataFn: (d: string) => void = () => undefined;
  let exitFn: (code: number | null) => void = () => undefined;
  const decoder = new StringDecoder('utf8');
  let pos = 0;
  let fd: number | null = null;
  let paused = false;
  let closed = false;
  let sock: net.Socket | null = null;
  const pendingInput: string[] = [];

  const openLog = () => {
    if (fd !== null) return true;
    try {
      fd = fs.openSync(files.serialLog, 'r');
      pos = Math.max(0, fs.fstatSync(fd).size - START_TAIL);
      return true;
    } catch {
      return false;
    }
  };

  /** Deliver what the log holds past `pos`, a chunk at a time, until it is drained or we are paused. */
  const pump = () => {
    if (closed || !openLog()) return;
    const buf = Buffer.allocUnsafe(CHUNK);
    while (!paused && !closed) {
      const n = fs.readSync(fd!, buf, 0, CHUNK, pos);
      if (n <= 0) return;
      pos += n;
      const text = decoder.write(buf.subarray(0, n));
      if (text) dataFn(text);
    }
  };

  // inotify tells us about writes at once; the interval covers what it may miss and notices exit.
  let watcher: fs.FSWatcher | null = null;
  const watch = () => {
    if (watcher || !fs.existsSync(files.serialLog)) return;
    watcher = fs.watch(files.serialLog, () => pump());
    // The machine dir removed under it (a destroy): the interval notices the end.
    watcher.on('error', () => undefined);
  };
  const timer = setInterval(() => {
    watch();
    pump();
    if (closed) return;
    const now = state();
    if (now !== 'running') {
      pump();
      closed = true;
      cleanup();
      // The holder writes its command's exit code just after the command ends: wait for it a moment. Not when
      // another process took its place (a restart): the new one removed the old one's code as it started.
      void (async () => {
        let code = exitCode?.() ?? null;
        for (let i = 0; exitCode && now === 'ended' && code === null && i < 100; i++) {
          await new Promise((r) => setTimeout(r, 50));
          code = exitCode();
        }
        exitFn(code);
      })();
    }
  }, 250);

  const connect = (attempt = 0) => {
    if (closed || !files.serialSock) return;
    const s = net.connect(files.serialSock);
    s.on('connect', () => {
      sock = s;
      for (const d of pendingInput.splice(0)) s.write(d);
    });
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => {
      if (sock === s) sock = null;
      // QEMU may still be creating its socket right after start; retry for a while.
      if (!closed && attempt < 40) setTimeout(() => connect(attempt + 1), 250);
    });
  };

  const cleanup = () => {
    clearInterval(timer);
    watcher?.close();
    sock?.destroy();
    if (fd !== null) fs.close(fd, () => undefined);
  };

  watch();
  connect();
  return {
    write: (d) => {
      if (sock) sock.write(d);
      else if (files.serialSock) pendingInput.push(d);
    },
    // The serial line has no window size: the guest learns it with `stty` or `resize`.
    resize: () => undefined,
    pause: () => void (paused = true),
    resume: () => {
      paused = false;
      pump();
    },
    onData: (fn) => {
      dataFn = fn;
      // What the log holds now is delivered at once, so the first viewer's replay has the boot messages.
      pump();
    },
    onExit: (fn) => void (exitFn = fn),
    close: () => {
      closed = true;
      cleanup();
    },
  };
}

/** A log file's size in bytes, 0 while there is none: where a new boot's part of an appended log begins. */
export function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** What a log file holds from byte `from` on (at most its last `max` bytes), or '' when there is none. */
export function logSince(file: string, from: number, max = 1 << 20): string {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const len = Math.max(0, fs.fstatSync(fd).size - from);
    const buf = Buffer.alloc(Math.min(len, max));
    fs.readSync(fd, buf, 0, buf.length, from + len - buf.length);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
