import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string | Buffer;
  /** Streamed to the process's stdin as it comes, which is closed at its end (EOF passed on). */
  stdin?: AsyncIterable<Uint8Array>;
  env?: Record<string, string>;
  cwd?: string;
  /** Output kept per stream; the rest is dropped (a runaway tool cannot fill memory). */
  maxOutputBytes?: number;
  /** Resolve as soon as stdout contains this, then kill the process (used by boot probes). */
  until?: string;
  /** Run as this user (Hangar runs as root; some tools, like PostgreSQL, refuse to). */
  uid?: number;
  gid?: number;
  /** Write stdout to this file instead of capturing it (large outputs such as tar streams). */
  stdoutFile?: string;
  /** Called with each complete output line as it arrives (progress of long builds). */
  onLine?: (line: string) => void;
  /** Called with the pid once the process runs. */
  onSpawn?: (pid: number) => void;
  /** Called with each chunk of output as it arrives (streamed to a caller). */
  onData?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface RunResult {
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  matched: boolean;
  durationMs: number;
}

/** Process groups of commands still running: killed if Hangar exits first (a probe must not outlive its server). */
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) killGroup(pid);
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** What the spawn helper (spawn-helper.mjs) says about a run. */
type HelperMessage =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'data'; id: number; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { op: 'stdin-ack'; id: number; closed: boolean }
  | { op: 'done'; id: number; code: number | null; signal: NodeJS.Signals | null; error?: string; thrown?: boolean };

/** A run in the helper, as run() follows it. */
interface HelperRun {
  /** The helper it was sent to. */
  proc?: ChildProcess;
  pid?: number;
  spawned(pid: number): void;
  data(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** `closed`: the command's stdin is gone (it stopped reading, or ended): feed no more. */
  stdinAck(closed: boolean): void;
  /** `thrown`: spawn refused the command outright (`error` says why): the call rejects. */
  done(code: number | null, signal: NodeJS.Signals | null, error?: string, thrown?: boolean): void;
}

/**
 * Commands are started by a small process of the server's own (spawn-helper.mjs): starting one
 * from here would hold this event loop until the child exec'd, 4.5-17.5 ms measured, longer the
 * bigger the server (every console and request waits that long). Forked on first use, again if
 * it ever exits; it keeps the server alive only while a command runs.
 */
const helper = {
  proc: null as ChildProcess | null,
  runs: new Map<number, HelperRun>(),
  nextId: 1,

  get(): ChildProcess {
    if (this.proc?.connected) return this.proc;
    const entry = fileURLToPath(new URL('./spawn-helper.mjs', import.meta.url));
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build`);
    const h = fork(entry, [], { serialization: 'advanced', execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    h.on('message', (m: HelperMessage) => {
      const r = this.runs.get(m.id);
      // A run of another helper (one that is exiting while this one started) is not this one's to end.
      if (!r || r.proc !== h) return;
      if (m.op === 'spawned') r.spawned(m.pid);
      else if (m.op === 'data') r.data(m.stream, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      else if (m.op === 'stdin-ack') r.stdinAck(m.closed);
      else if (m.op === 'done') {
        this.runs.delete(m.id);
        this.hold();
        r.done(m.code, m.signal, m.error, m.thrown);
      }
    });
    // Its end (a crash, a kill from outside, or no start at all) ends the runs it had: their process groups go too.
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      if (this.proc === h) this.proc = null;
      for (const [id, r] of [...this.runs]) {
        if (r.proc !== h) continue;
        this.runs.delete(id);
        if (r.pid !== undefined) killGroup(r.pid);
        r.done(null, null, `the server's process that starts commands ended (${why})`);
      }
      this.hold();
    };
    h.on('exit', (code, signal) => end(signal ?? `exit ${code}`));
    h.on('error', (e) => h.pid === undefined && end(e.message));
    this.proc = h;
    this.hold();
    return h;
  },

  /** Keep the server's loop alive for the helper's messages only while a run waits for them. */
  hold(): void {
    const h = this.proc;
    if (!h) return;
    if (this.runs.size > 0) {
      h.ref();
      h.channel?.ref();
    } else {
      h.unref();
      h.channel?.unref();
    }
  },
};

/** A message to the helper that runs `r` (none when it is gone: its end ends the run). */
function tell(r: HelperRun, m: Record<string, unknown>): void {
  if (r.proc?.connected) r.proc.send(m);
}

/**
 * The one way Hangar runs host commands: an argv array, never a shell string, so names and
 * paths that came from users can never become shell syntax. Started by the spawn helper (above).
 */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0 || !argv[0]) throw new TypeError('run: empty argv');
  const started = performance.now();
  const max = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  // Made (or emptied) here, so a file that cannot be written fails the call at once, as before the helper; the helper writes it.
  if (opts.stdoutFile) closeSync(openSync(opts.stdoutFile, 'w', 0o600));
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    let matched = false;
    // `until` is looked for in each chunk and the end of the one before (where a match may begin), not in all output so far.
    const needle = opts.until ? Buffer.from(opts.until) : null;
    let carry: Buffer = Buffer.alloc(0);
    const untilIn = (b: Buffer) => {
      const hay = carry.length ? Buffer.concat([carry, b]) : b;
      carry = hay.subarray(Math.max(0, hay.length - (needle!.length - 1)));
      return hay.includes(needle!);
    };
    let settled = false;
    let killed = false;
    const id = helper.nextId++;
    const kill = () => {
      if (killed) return;
      killed = true;
      // Straight to its process group as well: the helper need not be listening for it to die.
      if (r.pid !== undefined) killGroup(r.pid);
      tell(r, { op: 'kill', id });
    };
    const onTimeout = () => {
      timedOut = true;
      kill();
    };
    const timer = opts.timeoutMs ? setTimeout(onTimeout, opts.timeoutMs) : null;
    const onAbort = () => kill();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const partial = { out: '', err: '' };
    const lines = (which: 'out' | 'err', b: Buffer) => {
      if (!opts.onLine) return;
      const parts = (partial[which] + b.toString('utf8')).split('\n');
      partial[which] = parts.pop() ?? '';
      for (const l of parts) opts.onLine(l);
    };
    let stdinAck: ((closed: boolean) => void) | null = null;
    const r: HelperRun = {
      spawned: (pid) => {
        r.pid = pid;
        live.add(pid);
        // Killed before it was known to run: its group goes now.
        if (killed) killGroup(pid);
        opts.onSpawn?.(pid);
      },
      data: (stream, b) => {
        opts.onData?.(stream, b);
        if (stream === 'stdout') {
          lines('out', b);
          if (outLen < max) {
            out.push(b);
            outLen += b.length;
          }
          if (opts.until && !matched && untilIn(b)) {
            matched = true;
            kill();
          }
        } else {
          lines('err', b);
          if (errLen < max) {
            err.push(b);
            errLen += b.length;
          }
        }
      },
      stdinAck: (closed) => {
        const ack = stdinAck;
        stdinAck = null;
        ack?.(closed);
      },
      done: (code, signal, spawnError, thrown) => {
        if (settled) return;
        settled = true;
        if (r.pid !== undefined) live.delete(r.pid);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        stdinAck?.(true);
        if (thrown) return reject(new Error(spawnError));
        resolve({
          argv: [...argv],
          code,
          signal,
          timedOut,
          matched,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: spawnError ? `${spawnError}\n` : Buffer.concat(err).toString('utf8'),
          durationMs: performance.now() - started,
        });
      },
    };
    let proc: ChildProcess;
    try {
      proc = helper.get();
    } catch (e) {
      return r.done(null, null, `could not start the server's process that starts commands: ${(e as Error).message}`);
    }
    r.proc = proc;
    helper.runs.set(id, r);
    helper.hold();
    proc.send({
      op: 'spawn',
      id,
      file: argv[0],
      args: argv.slice(1),
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      uid: opts.uid,
      gid: opts.gid,
      stdin: opts.input !== undefined || !!opts.stdin,
      input: opts.input,
      stdoutFile: opts.stdoutFile,
    });
    if (opts.stdin) {
      // One chunk in flight at a time: the next goes once the child's pipe took this one.
      const feed = async () => {
        for await (const chunk of opts.stdin!) {
          if (settled) return;
          const closed = await new Promise<boolean>((ack) => {
            stdinAck = ack;
            tell(r, { op: 'stdin', id, data: chunk });
          });
          // The command stopped reading (head, xz --single-stream): the rest of the input is not sent.
          if (closed) return;
        }
        tell(r, { op: 'stdin-end', id });
      };
      // The caller's input broke off: the command's stdin is closed, and it ends as it would at an early EOF.
      feed().catch(() => tell(r, { op: 'stdin-end', id, failed: true }));
    }
  });
}

/** Like `command -v`: the absolute path of an executable on PATH, or null. */
export async function which(cmd: string): Promise<string | null> {
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  for (const d of [...dirs, '/usr/sbin', '/sbin']) {
    const p = path.join(d, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here; next directory
    }
  }
  return null;
}

/** A tool's warning line (apt's `W:`, `warning:`, `WARN`): not what a failure is told by when another line says more. */
const WARNING_LINE = /^(W:|warn(ing)?\b)/i;

/** The first line of a tool's output that says something, a warning only when nothing else does (apt warns before its `E:`). */
export const firstLine = (s: string): string => {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => !WARNING_LINE.test(l)) ?? lines[0] ?? '';
};
export const lastLine = (s: string): string =>
  s
    .split('\n')
    .filter((l) => l.trim())
    .pop()
    ?.trim() ?? '';

/**
 * Runs `fn` with `kill` wired to the caller's abort signal and to a timeout (a run whose caller
 * went away, or that takes too long); says whether the timeout fired.
 */
export async function killable<T>(signal: AbortSignal, timeoutMs: number, kill: () => void, fn: () => Promise<T>): Promise<{ value: T; timedOut: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  signal.addEventListener('abort', kill, { once: true });
  try {
    const value = await fn();
    return { value, timedOut };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', kill);
  }
}

/**
 * A process as a byte stream (its stdin and stdout; stderr dropped): for a protocol spoken over
 * pipes, such as sshd in inetd mode. Ending the stream's writable side closes the process's
 * stdin (EOF); destroying it kills the process group.
 */
export function spawnDuplex(argv: readonly string[]): Duplex {
  if (argv.length === 0 || !argv[0]) throw new TypeError('spawnDuplex: empty argv');
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], shell: false, detached: true });
  const pid = child.pid;
  if (pid !== undefined) live.add(pid);
  const kill = () => {
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) killGroup(pid);
  };
  child.once('exit', () => pid !== undefined && live.delete(pid));
  const d = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  d.once('close', kill);
  child.once('error', (e) => d.destroy(e));
  return d;
}
