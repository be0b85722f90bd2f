import type { StepMachine } from './builtins';
import { forkRunner, heapExhausted, howEnded } from './step-child';
import type { FromChild, RpcMethod, ToChild } from './step-runner';
import type { StepLimits } from './user-step-shape';

/** One machine call from the step, done here on the real machine (the child only asks). */
function serve(m: StepMachine, method: RpcMethod, a: unknown[]): Promise<unknown> {
  switch (method) {
    case 'exec':
      return m.exec(a[0] as string[], a[1] as number | undefined);
    case 'writeFile':
      return m.writeFile(a[0] as string, a[1] as string | Uint8Array, a[2] as string | undefined);
    case 'writeTree':
      return m.writeTree(a[0] as string, a[1] as Uint8Array);
    case 'readFile':
      return m.readFile(a[0] as string);
    case 'console.send':
      return m.console.send(a[0] as string);
    case 'console.sendline':
      return m.console.sendline(a[0] as string);
    case 'console.expect':
      return m.console.expect(a[0] as string | RegExp, a[1] as number | undefined);
    case 'reboot':
      return m.reboot();
    case 'apply':
      return m.apply(a[0] as string, a[1] as Record<string, unknown> | undefined);
    default:
      return Promise.reject(new Error(`no machine method ${String(method)}`));
  }
}

/**
 * Run a user step's `run(machine, args)` in a child process of its own (step-child.ts), not in the
 * server: a step that loops for ever, throws from a timer or eats memory fails its build with that
 * reason, and the server goes on serving. Its limits: the time, the heap and the whole process's
 * RSS. The machine is served over the IPC channel.
 */
export function runUserStep(o: { module: string; name: string; args: Record<string, unknown>; machine: StepMachine; limits: StepLimits }): Promise<void> {
  const { timeoutS, memoryMib } = o.limits;
  const proc = forkRunner(memoryMib, { role: 'run', module: o.module, onLine: (line) => o.machine.log(line), hint: "memoryMib in the step's module sets it" });
  const { child } = proc;
  return new Promise<void>((resolve, reject) => {
    let outcome: { ok: true } | { ok: false; error: Error } | null = null;
    const stop = (why: string) => {
      if (!outcome) proc.kill(why);
    };
    const timer = setTimeout(() => stop(`did not finish within its time limit of ${timeoutS} s (timeoutS in the step's module sets it)`), timeoutS * 1000);
    const signal = o.machine.signal;
    const onAbort = () => stop('was cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();

    const reply = (m: ToChild) => {
      if (child.connected) child.send(m, (err) => err && undefined);
    };
    child.on('message', (m: FromChild) => {
      if (m.t === 'log') o.machine.log(m.line);
      else if (m.t === 'call')
        serve(o.machine, m.method, Array.isArray(m.args) ? m.args : []).then(
          (value) => reply({ t: 'reply', id: m.id, ok: true, value }),
          (err: Error) => reply({ t: 'reply', id: m.id, ok: false, error: err?.message ?? String(err) }),
        );
      else if (m.t === 'done') outcome = { ok: true };
      else if (m.t === 'fail') outcome = { ok: false, error: new Error(m.outside ? `threw outside its run() (asynchronously): ${m.message}` : m.message) };
    });
    child.on('error', (err) => {
      outcome ??= { ok: false, error: new Error(`its process did not start: ${err.message}`) };
    });
    // 'close', not 'exit': the last lines it wrote (a V8 heap abort's reason) are read by then.
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      proc.unwatch();
      signal?.removeEventListener('abort', onAbort);
      const killedFor = proc.killedFor();
      if (outcome?.ok) return resolve();
      if (outcome) return reject(outcome.error);
      if (killedFor) return reject(new Error(`the step ${killedFor}`));
      if (heapExhausted(proc.tail))
        return reject(
          new Error(`the step ran out of memory: its JavaScript heap reached its limit of ${memoryMib} MiB (memoryMib in the step's module sets it)`),
        );
      reject(new Error(`the step's process ended before its run() did (${howEnded(code, sig, proc.tail)})`));
    });
    child.send({ t: 'run', module: o.module, name: o.name, args: o.args, machine: { name: o.machine.name, driver: o.machine.driver } } satisfies ToChild);
  });
}
