import net from 'node:net';

export interface QmpEvent {
  event: string;
  data?: unknown;
}

/** How long a command's answer is awaited by default: QMP answers in milliseconds unless QEMU is stuck. */
const COMMAND_TIMEOUT_MS = 30_000;

/** A command and its arguments. */
export type QmpCommand = [string, Record<string, unknown>?];

/** A QMP connection: JSON lines over the machine's unix socket. One command in flight at a time, as QMP answers in order. */
export class Qmp {
  private buf = '';
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  readonly events: QmpEvent[] = [];
  private readonly waiters = new Set<(e: QmpEvent) => void>();

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    const fail = (err: Error) => {
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('QMP connection closed')));
  }

  static async connect(path: string, timeoutMs = 5000): Promise<Qmp> {
    return (await Qmp.session(path, [], timeoutMs)).qmp;
  }

  /**
   * Connect and send the capabilities negotiation and `commands` in one write, without waiting
   * for the greeting: QMP reads them after it and answers in order. Resolves with their answers.
   */
  static async session(path: string, commands: QmpCommand[], timeoutMs = 5000): Promise<{ qmp: Qmp; answers: unknown[] }> {
    const sock = net.connect(path);
    const qmp = new Qmp(sock);
    const greeting = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`QMP at ${path}: no greeting within ${timeoutMs} ms`)), timeoutMs);
      qmp.pending.push({ resolve: () => (clearTimeout(t), resolve()), reject: (e) => (clearTimeout(t), reject(e)) });
    });
    const answers = qmp.executeAll([['qmp_capabilities'], ...commands]);
    try {
      await greeting;
      return { qmp, answers: (await answers).slice(1) };
    } catch (err) {
      answers.catch(() => undefined);
      qmp.close();
      throw err;
    }
  }

  /**
   * Several commands in one write (after any in flight); their answers in order, or the first error.
   * Each answer is awaited at most `timeoutMs`: past it the connection is closed (a lost answer
   * would hand the next command's answer to the wrong waiter), and every waiter fails.
   */
  executeAll(commands: QmpCommand[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<unknown[]> {
    const run = () => {
      const answers = commands.map(([execute]) => this.await(execute, timeoutMs));
      this.sock.write(commands.map(([execute, args]) => JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n').join(''));
      return Promise.all(answers);
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** The next answer in order, at most `timeoutMs` away (then the connection is closed). */
  private await(command: string, timeoutMs: number): Promise<unknown> {
    if (this.sock.destroyed) return Promise.reject(new Error(`QMP connection closed before ${command}`));
    return new Promise<unknown>((resolve, reject) => {
      const t = setTimeout(() => {
        reject(new Error(`QMP: no answer to ${command} within ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      this.pending.push({ resolve: (v) => (clearTimeout(t), resolve(v)), reject: (e) => (clearTimeout(t), reject(e)) });
    });
  }

  /** The first event (already received or to come) that `match` accepts; rejects if the connection closes first. */
  waitEvent(match: (e: QmpEvent) => boolean, timeoutMs: number): Promise<QmpEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, e?: QmpEvent) => {
        clearTimeout(t);
        this.waiters.delete(waiter);
        this.sock.off('close', closed);
        if (err) reject(err);
        else resolve(e as QmpEvent);
      };
      const waiter = (e: QmpEvent) => match(e) && done(null, e);
      const closed = () => done(new Error('QMP connection closed'));
      const t = setTimeout(() => done(new Error(`no matching QMP event within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.add(waiter);
      this.sock.on('close', closed);
    });
  }

  /** One command; its answer (at most `timeoutMs` away, as for executeAll). */
  async execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = COMMAND_TIMEOUT_MS): Promise<T> {
    const [answer] = await this.executeAll([[command, args]], timeoutMs);
    return answer as T;
  }

  close(): void {
    this.sock.destroy();
  }

  /** The connection ended (closed here, or QEMU exited). */
  get closed(): boolean {
    return this.sock.destroyed;
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string; data?: unknown };
      if (msg.event) {
        const e = { event: msg.event, data: msg.data };
        this.events.push(e);
        for (const w of [...this.waiters]) w(e);
      } else if (msg.QMP) this.pending.shift()?.resolve(msg.QMP);
      else if (msg.error) this.pending.shift()?.reject(new Error(`QMP: ${msg.error.desc}`));
      else if ('return' in msg) this.pending.shift()?.resolve(msg.return);
    }
  }
}
