import { spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { Duplex } from 'node:stream';

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
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * The one way Hangar runs host commands: an argv array, never a shell string, so names and
 * paths that came from users can never become shell syntax.
 */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0 || !argv[0]) throw new TypeError('run: empty argv');
  const started = performance.now();
  const max = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  const outFd = opts.stdoutFile ? openSync(opts.stdoutFile, 'w', 0o600) : null;
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    stdio: [opts.input === undefined && !opts.stdin ? 'ignore' : 'pipe', outFd ?? 'pipe', 'pipe'],
    shell: false,
    uid: opts.uid,
    gid: opts.gid,
    // Own process group, so a timeout or match kills the children too (they would hold our pipes open).
    detached: true,
  };
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), spawnOpts);
    if (child.pid !== undefined) {
      live.add(child.pid);
      opts.onSpawn?.(child.pid);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    let matched = false;
    let settled = false;
    let killed = false;
    const kill = () => {
      if (killed || child.pid === undefined) return;
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
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
    child.stdout?.on('data', (b: Buffer) => {
      opts.onData?.('stdout', b);
      lines('out', b);
      if (outLen < max) {
        out.push(b);
        outLen += b.length;
      }
      if (opts.until && !matched && Buffer.concat(out).includes(opts.until)) {
        matched = true;
        kill();
      }
    });
    child.stderr?.on('data', (b: Buffer) => {
      opts.onData?.('stderr', b);
      lines('err', b);
      if (errLen < max) {
        err.push(b);
        errLen += b.length;
      }
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      if (child.pid !== undefined) live.delete(child.pid);
      if (outFd !== null) closeSync(outFd);
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        argv: [...argv],
        code,
        signal,
        timedOut,
        matched,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: spawnError ? `${spawnError.message}\n` : Buffer.concat(err).toString('utf8'),
        durationMs: performance.now() - started,
      });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
    // When we killed it, do not wait for pipes that some orphan may still hold.
    child.on('exit', (code, signal) => {
      if (!killed) return;
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish(code, signal);
    });
    if (opts.input !== undefined) {
      // A child may stop reading before the end of its input (xz --single-stream does): that EPIPE
      // is not an error of ours, and unhandled it would take the whole server down.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.input);
    }
    const sink = child.stdin;
    if (opts.stdin && sink) {
      sink.on('error', () => undefined);
      const feed = async () => {
        for await (const chunk of opts.stdin!) {
          if (sink.destroyed) return;
          if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r).once('close', r));
        }
        sink.end();
      };
      feed().catch(() => sink.destroy());
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
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  child.once('exit', () => pid !== undefined && live.delete(pid));
  const d = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  d.once('close', kill);
  child.once('error', (e) => d.destroy(e));
  return d;
}
