import net from 'node:net';

export interface QmpEvent {
  event: string;
  data?: unknown;
}

/** A QMP connection: JSON lines over the machine's unix socket. One command in flight at a time, as QMP answers in order. */
export class Qmp {
  private buf = '';
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  readonly events: QmpEvent[] = [];

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
    const sock = net.connect(path);
    const qmp = new Qmp(sock);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`QMP at ${path}: no greeting within ${timeoutMs} ms`)), timeoutMs);
      qmp.pending.push({ resolve: () => (clearTimeout(t), resolve()), reject: (e) => (clearTimeout(t), reject(e)) });
    });
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const run = () =>
      new Promise<T>((resolve, reject) => {
        this.pending.push({ resolve: resolve as (v: unknown) => void, reject });
        this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      });
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string; data?: unknown };
      if (msg.event) this.events.push({ event: msg.event, data: msg.data });
      else if (msg.QMP) this.pending.shift()?.resolve(msg.QMP);
      else if (msg.error) this.pending.shift()?.reject(new Error(`QMP: ${msg.error.desc}`));
      else if ('return' in msg) this.pending.shift()?.resolve(msg.return);
    }
  }
}
