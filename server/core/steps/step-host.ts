import { z } from 'zod';
import { forkRunner, heapExhausted, howEnded, type RunnerProcess } from './step-child';
import type { FromChild, ToChild } from './step-runner';
import { stepDescriptionSchema, type CheckInput, type CheckResult, type StepDescription } from './user-step-shape';

export interface StepHostOptions {
  /** Time for its top level to run (import) and for each answer after, in seconds. */
  timeoutS: number;
  /** Its memory limit (heap, and RSS with Node's slack): loading and checks need far less than a run, and several modules load at once. */
  memoryMib: number;
  /** How long after the import a throw from what its top level left running still fails the loading. */
  settleMs: number;
  /** Idle this long, its process ends (the next check starts it again). */
  idleS: number;
}

export const DEFAULT_HOST_OPTIONS: StepHostOptions = { timeoutS: 10, memoryMib: 256, settleMs: 200, idleS: 30 };

/** Time for Node to start the runner, before its time limit runs. */
const STARTUP_MS = 30_000;

type Pending = { resolve: (r: CheckResult) => void; reject: (e: Error) => void };
/** One process of the module's: started when asked, ended when idle, broken or closed. */
type Session = { proc: RunnerProcess; loaded: Promise<StepDescription[]>; pending: Map<number, Pending>; idle: NodeJS.Timeout | null };

const checkResultSchema = z.union([
  z.object({ ok: z.literal(true), args: z.record(z.string(), z.unknown()) }),
  z.object({ ok: z.literal(false), issue: z.object({ path: z.array(z.string()), message: z.string() }) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/**
 * A user step module's code outside the server, for what the server asks of it besides a run: what
 * its steps are (name, version, usage, limits: plain data) and whether given words or arguments
 * suit a step (its fromWords and zod schema: they cannot cross to the server, so they stay with
 * the module, and the checked arguments or zod's issue come back). The module is imported in a
 * process of its own (step-child.ts) with a time limit for its top level and each answer, and a
 * memory limit of its own (256 MiB); a module whose top level hangs, throws (at once or from a timer) or eats
 * memory is refused with that reason, and the server is untouched. The process stays for the
 * checks of a build, and ends when idle.
 */
export class StepHost {
  private session: Session | null = null;
  private seq = 0;

  constructor(
    private readonly module: string,
    private readonly opts: StepHostOptions = DEFAULT_HOST_OPTIONS,
    /** The module's code failed after it loaded (a throw from a timer it left): what the catalog then says. */
    private readonly onBroken: (error: string) => void = () => undefined,
  ) {}

  /** Its steps as it describes them (its process is started for it); rejects with why it did not load. */
  describe(): Promise<StepDescription[]> {
    return (this.session ??= this.start()).loaded;
  }

  /** Words or arguments checked by a step's fromWords and schema, in the module's process. */
  async check(name: string, input: CheckInput): Promise<CheckResult> {
    const s = (this.session ??= this.start());
    await s.loaded;
    if (!s.proc.child.connected) throw new Error('its process ended');
    if (s.idle) clearTimeout(s.idle);
    s.idle = null;
    const id = ++this.seq;
    return new Promise<CheckResult>((resolve, reject) => {
      const timer = setTimeout(
        () => s.proc.kill(`did not answer within ${this.opts.timeoutS} s (its fromWords or args schema runs too long)`),
        this.opts.timeoutS * 1000,
      );
      const done = () => (clearTimeout(timer), s.pending.delete(id), this.rest(s));
      s.pending.set(id, { resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)) });
      s.proc.child.send(
        { t: 'check', id, name, input } satisfies ToChild,
        (err) => err && s.pending.get(id)?.reject(new Error(`it did not take the check: ${err.message}`)),
      );
    });
  }

  /** Its process ends now (a later call starts it again). */
  close(): void {
    const s = this.session;
    this.session = null;
    s?.proc.kill('was closed');
  }

  private start(): Session {
    const { timeoutS, memoryMib, settleMs } = this.opts;
    const proc = forkRunner(memoryMib, { role: 'host', module: this.module, hint: 'the limit for loading a module' });
    const s: Session = { proc, loaded: null!, pending: new Map(), idle: null };
    const { child } = proc;
    s.loaded = new Promise<StepDescription[]>((resolve, reject) => {
      let described = false;
      let failure: { message: string; outside: boolean } | null = null;
      // Its time runs from when it starts on the module (Node's own start is not the module's doing), with a bound on that start too.
      const limit = (ms: number) => setTimeout(() => proc.kill(`did not load within ${timeoutS} s (its top level runs too long)`), ms);
      let timer = limit(STARTUP_MS + timeoutS * 1000 + settleMs);
      child.on('message', (m: FromChild) => {
        if (m.t === 'loading') {
          clearTimeout(timer);
          timer = limit(timeoutS * 1000 + settleMs);
        } else if (m.t === 'described') {
          const steps = stepDescriptionSchema.array().safeParse(m.steps);
          if (!steps.success) return void proc.kill('described its steps wrongly');
          described = true;
          clearTimeout(timer);
          this.rest(s);
          resolve(steps.data);
        } else if (m.t === 'checked') {
          const r = checkResultSchema.safeParse(m.result);
          s.pending.get(m.id)?.resolve(r.success ? r.data : { ok: false, error: 'it answered the check wrongly' });
        } else if (m.t === 'fail') failure = { message: m.message, outside: m.outside };
      });
      child.on('error', (err) => {
        failure ??= { message: `its process did not start: ${err.message}`, outside: false };
      });
      // 'close', not 'exit': the last lines it wrote (a V8 heap abort's reason) are read by then.
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        proc.unwatch();
        if (s.idle) clearTimeout(s.idle);
        if (this.session === s) this.session = null;
        const killedFor = proc.killedFor();
        const why = failure?.outside
          ? `its code threw asynchronously: ${failure.message}`
          : failure
            ? failure.message
            : killedFor
              ? `it ${killedFor}`
              : heapExhausted(proc.tail)
                ? `it ran out of memory: its JavaScript heap reached the limit of ${memoryMib} MiB`
                : `its process ended (${howEnded(code, sig, proc.tail)})`;
        const asked = s.pending.size > 0;
        for (const p of [...s.pending.values()]) p.reject(new Error(why));
        if (!described) return reject(new Error(why));
        // Ended by nothing asked of it (what its top level left running), or by a throw from a timer: the module is at fault, not a check.
        if (killedFor !== 'was closed' && killedFor !== 'was idle' && (failure?.outside || !asked)) this.onBroken(why);
      });
      child.send({ t: 'describe', module: this.module, settleMs } satisfies ToChild);
    });
    // Nobody may be waiting for it (a check started it and is gone): the rejection is read by describe().
    s.loaded.catch(() => undefined);
    return s;
  }

  /** Nothing asked of it: it ends after a while (a later call starts another). */
  private rest(s: Session) {
    if (s.pending.size || this.session !== s) return;
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => {
      if (this.session === s) this.session = null;
      s.proc.kill('was idle');
    }, this.opts.idleS * 1000);
    s.idle.unref();
  }
}
