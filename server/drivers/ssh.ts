import fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { Client, type ClientChannel } from 'ssh2';
import { shellLine } from '@/lib/shell-quote';
import { feed, StreamTimeoutError, tailKeeper } from './exec-stream';
import type { ConsoleSource, ExecResult, StreamIo } from './types';

/** How Hangar reaches a machine's sshd: a forwarded port on loopback (or a host of its own) and the machine's own key. */
export interface SshTarget {
  /** Default: 127.0.0.1 (a VM's forwarded port). */
  host?: string;
  port: number;
  user: string;
  keyFile: string;
  /** The key's passphrase, when it has one (an adopted machine's key), kept 0600 beside it. */
  passphraseFile?: string;
  /** Trust on first use: the guest makes its host key at first boot, Hangar pins it then. */
  knownHostFile: string;
  /**
   * A machine that is up already (an adopted server), not one booting: a refused login is final
   * (not retried), and with `pinned` a missing pin is refused too (the pin was written at adopt).
   */
  settled?: boolean;
  pinned?: boolean;
}

function verifier(t: SshTarget) {
  return (key: Buffer): boolean => {
    const fp = createHash('sha256').update(key).digest('base64');
    let pinned: string | null = null;
    try {
      pinned = fs.readFileSync(t.knownHostFile, 'utf8').trim();
    } catch {
      // first connection
    }
    if (pinned === null) {
      if (t.pinned) return false;
      fs.writeFileSync(t.knownHostFile, `${fp}\n`, { mode: 0o600 });
      return true;
    }
    return pinned === fp;
  };
}

/** Connect, retrying while sshd is not up yet (a machine that just booted) until `timeoutMs`. */
export async function sshConnect(t: SshTarget, timeoutMs = 15_000): Promise<Client> {
  const host = t.host ?? '127.0.0.1';
  const end = Date.now() + timeoutMs;
  let last: Error = new Error('no attempt');
  while (Date.now() < end) {
    try {
      return await new Promise<Client>((resolve, reject) => {
        const c = new Client();
        c.once('ready', () => resolve(c));
        // on, not once: a connection QEMU's forward accepts before the guest's sshd listens can fail twice
        // (a timeout, then "lost before handshake"), and an error event nobody listens to ends the server.
        c.on('error', (e) => {
          c.end();
          reject(e);
        });
        c.connect({
          host,
          port: t.port,
          username: t.user,
          privateKey: fs.readFileSync(t.keyFile),
          ...(t.passphraseFile && fs.existsSync(t.passphraseFile) ? { passphrase: fs.readFileSync(t.passphraseFile, 'utf8') } : {}),
          readyTimeout: Math.max(1000, end - Date.now()),
          hostVerifier: verifier(t),
          keepaliveInterval: 15_000,
        });
      });
    } catch (e) {
      last = e as Error;
      // A changed host key is not a reason to retry: say so.
      if (/verification failed/i.test(last.message) && t.pinned && !fs.existsSync(t.knownHostFile))
        throw new Error(`No host key is pinned for this machine (${t.knownHostFile} is missing): refusing to connect; adopt it again.`, { cause: e });
      if (/verification failed/i.test(last.message))
        throw new Error(`SSH host key of the machine changed (pinned in ${t.knownHostFile}): refusing to connect.`, { cause: e });
      if (t.settled && /authentication methods failed/i.test(last.message))
        throw new Error(`SSH login to ${t.user}@${host}:${t.port} was refused: the key is not authorized there (${last.message}).`, { cause: e });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`SSH to ${host}:${t.port} failed: ${last.message}`);
}

/** How far into stderr the pid line is looked for (a login shell's rc files may print before it). */
const PID_LINE_WITHIN = 4096;

/**
 * A command over SSH that can be stopped (its time limit, its caller gone). Closing the connection
 * leaves a command that reads and writes nothing running, and sshd refuses the signal request after
 * a root login ("session signalling requires privilege separation": root's sessions are not
 * separated), which is how Hangar logs in to most machines. So the login shell hands over to sh
 * (`exec`: sh keeps the session leader's pid, the command's process group, since sshd calls
 * setsid), which says that pid on stderr in a line of its own, taken off before the command's own
 * stderr, then runs argv; a stop kills that group over a second channel, then closes.
 * sh, not the login shell, reads the command: fish and csh parse `$$` and `>&2` otherwise, and
 * single-quoted words read the same in all of them.
 */
export class RemoteCommand {
  private pid: number | null = null;
  /** stderr held until the pid line is found (null once it was, or given up). */
  private head: Buffer | null = Buffer.alloc(0);
  private pidKnown!: () => void;
  /** Settles when the pid came, was given up, or the channel closed. */
  private readonly pidSettled = new Promise<void>((r) => (this.pidKnown = r));
  private readonly tag = `hangar-pid:${randomBytes(6).toString('hex')}:`;
  private stopping: Promise<void> | null = null;
  stopped = false;

  /** `again`: a new connection to the same machine, for the kill when this one takes no second channel (sshd's MaxSessions 1). */
  constructor(
    private readonly c: Client,
    private readonly again?: () => Promise<Client>,
  ) {}

  /** The line the login shell runs: sh, which says its pid, then argv (each argument quoted). */
  line(argv: string[]): string {
    return shellLine(['exec', 'sh', '-c', `echo ${this.tag}$$ >&2; "$@"`, 'sh', ...argv]);
  }

  /**
   * Start argv on a channel of its own: `opened` with the channel (or why it did not open), its stderr
   * to `onErr` with the pid line taken off, and `onClose` with its exit code once the channel closed.
   */
  open(argv: string[], handlers: { opened(err: Error | undefined, stream?: ClientChannel): void; onErr(b: Buffer): void; onClose(code: number): void }): void {
    this.c.exec(this.line(argv), (err, stream) => {
      if (err) return handlers.opened(err);
      let code = -1;
      stream.stderr.on('data', (b: Buffer) => handlers.onErr(this.stderr(b)));
      stream.on('exit', (c2: number | null, signal?: string) => {
        code = c2 ?? (signal ? 128 + 9 : -1);
      });
      stream.on('close', () => {
        const held = this.flush();
        if (held) handlers.onErr(held);
        handlers.onClose(code);
      });
      handlers.opened(undefined, stream);
    });
  }

  /** A chunk of the channel's stderr -> the command's own part of it. */
  stderr(b: Buffer): Buffer {
    if (!this.head) return b;
    const head = Buffer.concat([this.head, b]);
    const at = head.indexOf(this.tag);
    const nl = at < 0 ? -1 : head.indexOf(10, at);
    if (nl < 0) {
      // Not here yet; after PID_LINE_WITHIN bytes, given up: all of it is the command's.
      if (head.length <= PID_LINE_WITHIN + this.tag.length + 12) {
        this.head = head;
        return Buffer.alloc(0);
      }
      this.head = null;
      this.pidKnown();
      return head;
    }
    this.head = null;
    const pid = Number(head.subarray(at + this.tag.length, nl).toString());
    if (Number.isInteger(pid) && pid > 1) this.pid = pid;
    this.pidKnown();
    return Buffer.concat([head.subarray(0, at), head.subarray(nl + 1)]);
  }

  /** The channel closed: what stderr held back (no pid line came), and a stop waits for none. */
  flush(): Buffer | null {
    const held = this.head;
    this.head = null;
    this.pidKnown();
    return held?.length ? held : null;
  }

  /** Kill the command's process group, its pid waited for (5 s at most in all), then close the connection. Once. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.c.end();
        resolve();
      };
      const timer = setTimeout(done, 5_000);
      // A stop right after the start: the command may not have said its pid yet, and would run on without it.
      void this.pidSettled.then(() => {
        if (!this.pid) return done();
        const kill = shellLine(['sh', '-c', `kill -9 -${this.pid}`]);
        runKill(this.c, kill, (refused) => {
          if (!refused || !this.again) return done();
          // No second channel on this connection (sshd's MaxSessions 1, or it is gone): one of its own runs the kill.
          this.again().then((c2) => {
            // Closed however the kill goes (a channel that never answers included), even past the stop's own 5 s.
            const cap = setTimeout(() => c2.end(), 5_000);
            runKill(c2, kill, () => {
              clearTimeout(cap);
              c2.end();
              done();
            });
          }, done);
        });
      });
    });
    return this.stopping;
  }
}

/** `line` on a channel of its own on `c`; `after(true)` when no channel opened, `after(false)` once it closed. */
function runKill(c: Client, line: string, after: (refused: boolean) => void): void {
  try {
    c.exec(line, (err, k) => {
      if (err) return after(true);
      k.on('close', () => after(false));
      k.resume();
      k.stderr.resume();
    });
  } catch {
    // the connection is gone already
    after(true);
  }
}

/** Run argv over SSH (each argument quoted for the remote shell): stdout, stderr, exit code. */
export async function sshExec(t: SshTarget, argv: string[], timeoutMs: number): Promise<ExecResult> {
  const started = performance.now();
  const c = await sshConnect(t, Math.min(timeoutMs, 15_000));
  const cmd = new RemoteCommand(c, () => sshConnect(t, 5_000));
  const timedOut = () => new Error(`command timed out after ${timeoutMs / 1000} s`);
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => void cmd.stop().then(() => reject(timedOut())), timeoutMs);
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      cmd.open(argv, {
        opened: (err, stream) => {
          if (err) {
            clearTimeout(timer);
            return reject(err);
          }
          stream!.on('data', (b: Buffer) => out.push(b));
        },
        onErr: (b) => errs.push(b),
        onClose: (code) => {
          clearTimeout(timer);
          if (cmd.stopped) return reject(timedOut());
          resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8'), durationMs: performance.now() - started });
        },
      });
    });
  } finally {
    c.end();
  }
}

/** Run argv over SSH with streamed stdin and stdout (backpressure both ways: the channel's window). */
export async function sshExecStream(t: SshTarget, argv: string[], io: StreamIo): Promise<{ code: number; stderr: string }> {
  const c = await sshConnect(t, Math.min(io.timeoutMs, 15_000));
  const cmd = new RemoteCommand(c, () => sshConnect(t, 5_000));
  let timedOut = false;
  const stop = () => void cmd.stop();
  io.signal.addEventListener('abort', stop, { once: true });
  try {
    if (io.signal.aborted) throw new Error('The command was cancelled.');
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        timedOut = true;
        void cmd.stop().then(() => reject(new StreamTimeoutError(io.timeoutMs)));
      }, io.timeoutMs);
      c.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      const errs = tailKeeper();
      cmd.open(argv, {
        opened: (err, stream) => {
          if (err) {
            clearTimeout(timer);
            return reject(err);
          }
          if (io.stdout) stream!.pipe(io.stdout as NodeJS.WritableStream, { end: false });
          else stream!.resume();
          feed(io.stdin, stream!).catch(stop);
        },
        onErr: (b) => errs.push(b),
        onClose: (code) => {
          clearTimeout(timer);
          if (timedOut) return reject(new StreamTimeoutError(io.timeoutMs));
          resolve({ code, stderr: errs.text() });
        },
      });
    });
  } finally {
    io.signal.removeEventListener('abort', stop);
    c.end();
  }
}

/** An interactive login shell with a pty, as a console source (resize = window-change). */
export async function sshShell(t: SshTarget, cols: number, rows: number): Promise<ConsoleSource> {
  const c = await sshConnect(t);
  const stream = await new Promise<ClientChannel>((resolve, reject) =>
    c.shell({ term: 'xterm-256color', cols, rows }, (err, s) => (err ? reject(err) : resolve(s))),
  );
  const dataFns: ((d: string) => void)[] = [];
  const exitFns: ((code: number | null) => void)[] = [];
  let code: number | null = null;
  let closed = false;
  const emitExit = () => {
    if (closed) return;
    closed = true;
    c.end();
    for (const fn of exitFns) fn(code);
  };
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => dataFns.forEach((fn) => fn(d)));
  stream.stderr.on('data', (d: Buffer) => dataFns.forEach((fn) => fn(d.toString('utf8'))));
  stream.on('exit', (c2: number | null) => (code = c2));
  stream.on('close', emitExit);
  c.on('error', emitExit);
  c.on('close', emitExit);
  return {
    write: (d) => void (closed || stream.write(d)),
    resize: (cl, rw) => closed || stream.setWindow(rw, cl, 0, 0),
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    onData: (fn) => void dataFns.push(fn),
    onExit: (fn) => void exitFns.push(fn),
    close: () => {
      stream.close();
      c.end();
    },
  };
}
