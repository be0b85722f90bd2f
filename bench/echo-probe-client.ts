import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { projectRoot } from '@/server/core/paths';

/**
 * A bench script (bench/SCRIPT) in a process of its own, through tsx: its stdout read line by line
 * (`next`: the next line, or a rejection when the process exits first).
 */
function benchProcess(script: string, args: string[], env: Record<string, string> = {}) {
  const tsx = path.join(projectRoot(), 'node_modules', '.bin', 'tsx');
  const p = spawn(tsx, [path.join(projectRoot(), 'bench', script), ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines = readline.createInterface({ input: p.stdout! });
  const next = () => new Promise<string>((resolve, reject) => (lines.once('line', resolve), p.once('exit', (c) => reject(new Error(`${script} exited ${c}`)))));
  return { p, next };
}

/** The echo probe (echo-probe.ts) in a process of its own: resolves when it is attached and ready; `go()` starts it and resolves with its figures. */
export async function echoProbe(url: string, token: string, env: Record<string, string> = {}) {
  const { p, next } = benchProcess('echo-probe.ts', [url, token, '300', '10'], env);
  if ((await next()) !== 'ready') throw new Error('echo probe: not ready');
  return {
    go: async () => {
      p.stdin!.write('go\n');
      return JSON.parse(await next()) as { p50_ms: number; p99_ms: number; max_ms: number; samples: number };
    },
  };
}

/** The bare console (bare-console.ts) in a process of its own: resolves once it listens. */
export async function bareConsole() {
  const { p, next } = benchProcess('bare-console.ts', []);
  const line = await next();
  const port = /^listening (\d+)$/.exec(line)?.[1];
  if (!port) throw new Error(`bare console: ${line}`);
  return {
    url: `http://127.0.0.1:${port}`,
    /** Resolves once it has exited (nothing of it left running while the next measurement starts). */
    stop: () =>
      new Promise<void>((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      }),
  };
}
