import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../paths';

/**
 * The process a user step module's code runs in (dist/step-runner.js), for a run (step-process.ts)
 * and for loading it (step-host.ts): never the server's. A child process rather than a worker
 * thread: SIGKILL ends a tight loop or a stuck native call for sure, its memory is its own (a
 * worker's Buffers and native allocations are the server's, outside resourceLimits), and a V8 heap
 * abort takes only it down. Limits: the V8 heap (--max-old-space-size) and the whole process's RSS
 * (sampled every 100 ms: native allocations too); the caller keeps the time.
 */

/** What a process needs beyond its JavaScript heap (Node itself, code, buffers) before the watchdog calls it too much. */
export const RSS_SLACK_MIB = 128;
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

export interface RunnerProcess {
  child: ChildProcess;
  /** Its last 20 lines of output (a V8 heap abort says why there). */
  tail: string[];
  /** Kill it for a reason (the first one given is kept); false when it had one already. */
  kill(why: string): boolean;
  killedFor(): string | null;
  /** Stops the memory watchdog (when it has ended). */
  unwatch(): void;
}

/**
 * The runner forked with the heap limit and the RSS watchdog (past the limit it is killed, with
 * the amount said). Messages go over the IPC channel with advanced serialization (bytes and
 * regular expressions cross as they are). `onLine`: its stdout and stderr, line by line; `hint`: what
 * sets the limit, said with it.
 */
export function forkRunner(memoryMib: number, o: { role: 'run' | 'host'; module: string; onLine?: (line: string) => void; hint?: string }): RunnerProcess {
  const { file, execArgv } = runnerEntry();
  // Its role and module in its command line, for ps (it reads them from the messages).
  const child = fork(file, [o.role, o.module], {
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
      o.onLine?.(line);
    });
  }
  let reason: string | null = null;
  const kill = (why: string) => {
    if (reason) return false;
    reason = why;
    child.kill('SIGKILL');
    return true;
  };
  const capBytes = (memoryMib + RSS_SLACK_MIB) * 2 ** 20;
  const watch = setInterval(() => {
    const rss = child.pid ? rssBytes(child.pid) : 0;
    if (rss > capBytes)
      kill(`used ${Math.round(rss / 2 ** 20)} MiB of memory, over its limit of ${memoryMib} MiB (+${RSS_SLACK_MIB} for Node${o.hint ? `; ${o.hint}` : ''})`);
  }, WATCH_MS);
  child.once('exit', () => clearInterval(watch));
  return { child, tail, kill, killedFor: () => reason, unwatch: () => clearInterval(watch) };
}

/** Its JavaScript heap reached the limit (V8 says so on its way out). */
export const heapExhausted = (tail: string[]) => tail.some((l) => /heap out of memory|Reached heap limit/i.test(l));

/** How it ended, with its last words: `exit code 3: ...` or `signal SIGSEGV`. */
export function howEnded(code: number | null, sig: NodeJS.Signals | null, tail: string[]): string {
  const last = tail.filter((l) => l.trim()).slice(-3);
  return `${sig ? `signal ${sig}` : `exit code ${code}`}${last.length ? `: ${last.join(' | ')}` : ''}`;
}
