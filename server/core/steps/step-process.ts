import { fork } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../paths';
import type { StepMachine } from './builtins';
import type { FromChild, RpcMethod, ToChild } from './step-runner';

/** A user step's limits: `timeoutS` and `memoryMib` in its module override them. */
export interface StepLimits {
  timeoutS: number;
  memoryMib: number;
}
export const DEFAULT_STEP_LIMITS: StepLimits = { timeoutS: 30 * 60, memoryMib: 1024 };
/** What a process needs beyond its JavaScript heap (Node itself, code, buffers) before the watchdog calls it too much. */
const RSS_SLACK_MIB = 128;
const WATCH_MS = 100;

/** dist/step-runner.js next to the bundled server; from the sources, the TypeScript under tsx. */
function runnerEntry(): { file: string; execArgv: string[] } {
  const bundled = fileURLToPath(new URL('./step-runner.js', import.meta.url));
  if (fs.existsSync(bundled)) return { file: bundled, execArgv: [] };
  return { file: fileURLToPath(new URL('./step-runner.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
}

/** The server's secrets (DATABASE_URL, HANGAR_ADMIN_PASSWORD...) stay with it: the step gets a plain environment. */
function stepEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])));
}

function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

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
 * Run a user step's `run(machine, args)` in a child process of its own, not in the server: a step
 * that loops for ever, throws from a timer or eats memory fails its build with that reason, and
 * the server goes on serving. A child process rather than a worker thread: SIGKILL ends a tight
 * loop or a stuck native call for sure, its memory is its own (a worker's Buffers and native
 * allocations are the server's, outside resourceLimits), and a V8 heap abort takes only it down.
 * Limits: the V8 heap (--max-old-space-size), the whole process's RSS (sampled every 100 ms: native
 * allocations too), and the time. The machine is served over the IPC channel (advanced
 * serialization: bytes and regular expressions cross as they are).
 */
export function runUserStep(o: { module: string; name: string; args: Record<string, unknown>; machine: StepMachine; limits: StepLimits }): Promise<void> {
  const { file, execArgv } = runnerEntry();
  const { timeoutS, memoryMib } = o.limits;
  const child = fork(file, [], {
    execArgv: [...execArgv, `--max-old-space-size=${memoryMib}`],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: stepEnv() as NodeJS.ProcessEnv,
    cwd: projectRoot(),
  });
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      o.machine.log(line);
    });
  }
  return new Promise<void>((resolve, reject) => {
    let outcome: { ok: true } | { ok: false; error: Error } | null = null;
    let killedFor: string | null = null;
    const stop = (why: string) => {
      if (killedFor || outcome) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`did not finish within its time limit of ${timeoutS} s (timeoutS in the step's module sets it)`), timeoutS * 1000);
    const capBytes = (memoryMib + RSS_SLACK_MIB) * 2 ** 20;
    const watch = setInterval(() => {
      const rss = child.pid ? rssBytes(child.pid) : 0;
      if (rss > capBytes)
        stop(
          `used ${Math.round(rss / 2 ** 20)} MiB of memory, over its limit of ${memoryMib} MiB ` +
            `(+${RSS_SLACK_MIB} for Node; memoryMib in the step's module sets it)`,
        );
    }, WATCH_MS);
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
      clearInterval(watch);
      signal?.removeEventListener('abort', onAbort);
      if (outcome?.ok) return resolve();
      if (outcome) return reject(outcome.error);
      if (killedFor) return reject(new Error(`the step ${killedFor}`));
      if (tail.some((l) => /heap out of memory|Reached heap limit/i.test(l)))
        return reject(
          new Error(`the step ran out of memory: its JavaScript heap reached its limit of ${memoryMib} MiB (memoryMib in the step's module sets it)`),
        );
      const last = tail.filter((l) => l.trim()).slice(-3);
      reject(
        new Error(
          `the step's process ended before its run() did (${sig ? `signal ${sig}` : `exit code ${code}`})${last.length ? `: ${last.join(' | ')}` : ''}`,
        ),
      );
    });
    child.send({ t: 'run', module: o.module, name: o.name, args: o.args, machine: { name: o.machine.name, driver: o.machine.driver } } satisfies ToChild);
  });
}
