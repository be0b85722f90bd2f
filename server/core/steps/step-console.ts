import { randomBytes } from 'node:crypto';
import type { Principal } from '../auth';
import type { Attached, ConsoleRegistry } from '../console/registry';
import type { ViewerSink } from '../console/session';

/** Terminal control sequences (colours, cursor moves, titles) are not text to match. */
// eslint-disable-next-line no-control-regex
const CONTROL = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\r/g;

const KEEP = 1 << 20;

/**
 * A step's hold on a machine's serial console, pexpect style: `send` types, `expect` waits for
 * text (or a regular expression) in the output that came after the previous match. It is one
 * more viewer of the machine's shared console session, so a person watching sees what the step
 * types. A console that ended (the machine restarted) is attached again on next use.
 */
export class StepConsole {
  private attached: Attached | null = null;
  private readonly sinkId = `step-${randomBytes(6).toString('hex')}`;
  /** Output since attach, control sequences removed; `cursor` is where the next expect looks from. */
  private text = '';
  private cursor = 0;
  private waiters = new Set<() => void>();

  constructor(
    private readonly consoles: ConsoleRegistry,
    private readonly principal: Principal,
    private readonly machineId: string,
  ) {}

  private async session(): Promise<Attached['session']> {
    if (this.attached && !this.attached.session.exited && this.attached.session.modeOf(this.sinkId)) return this.attached.session;
    const sink: ViewerSink = {
      id: this.sinkId,
      output: (_offset, data, ack) => {
        ack();
        this.text += data.replace(CONTROL, '');
        if (this.text.length > KEEP) {
          const cut = this.text.length - KEEP / 2;
          this.text = this.text.slice(cut);
          this.cursor = Math.max(0, this.cursor - cut);
        }
        for (const w of this.waiters) w();
      },
      exit: () => undefined,
      viewers: () => undefined,
      closed: () => {
        this.attached = null;
      },
    };
    this.attached = await this.consoles.attach(this.principal, sink, {
      sessionId: this.sinkId,
      target: { kind: 'machine', machineId: this.machineId, channel: 'serial' },
      mode: 'interactive',
      cols: 160,
      rows: 48,
    });
    if (this.attached.mode !== 'interactive') throw new Error('the console is read-only for this user');
    return this.attached.session;
  }

  async send(data: string): Promise<void> {
    const s = await this.session();
    if (!s.input(this.sinkId, data)) throw new Error('the console did not take the input (the machine stopped?)');
  }

  sendline(line: string): Promise<void> {
    return this.send(`${line}\r`);
  }

  /**
   * Wait until `pattern` shows in the output after the last match; returns the output up to and
   * including the match. Times out with the last lines seen, so a failed step says why.
   */
  async expect(pattern: string | RegExp, timeoutS = 60): Promise<string> {
    await this.session();
    const find = (): { end: number } | null => {
      const rest = this.text.slice(this.cursor);
      if (typeof pattern === 'string') {
        const i = rest.indexOf(pattern);
        return i < 0 ? null : { end: i + pattern.length };
      }
      const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(rest);
      return m ? { end: m.index + m[0].length } : null;
    };
    return new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = find();
        if (!hit) return;
        const out = this.text.slice(this.cursor, this.cursor + hit.end);
        this.cursor += hit.end;
        done();
        resolve(out);
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.text.slice(this.cursor).trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`console: ${JSON.stringify(String(pattern))} did not show within ${timeoutS} s; last output: ${seen || '(none)'}`));
      }, timeoutS * 1000);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Output from now on only: what came before is not matched by the next expect. */
  skip(): void {
    this.cursor = this.text.length;
  }

  close(): void {
    this.attached?.session.detach(this.sinkId);
    this.attached = null;
  }
}
