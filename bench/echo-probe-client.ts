import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { projectRoot } from '@/server/core/paths';

/** The echo probe (echo-probe.ts) in a process of its own: resolves when it is attached and ready; `go()` starts it and resolves with its figures. */
export async function echoProbe(url: string, token: string, env: Record<string, string> = {}) {
  const tsx = path.join(projectRoot(), 'node_modules', '.bin', 'tsx');
  const p = spawn(tsx, [path.join(projectRoot(), 'bench', 'echo-probe.ts'), url, token, '300', '10'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = readline.createInterface({ input: p.stdout! });
  const next = () =>
    new Promise<string>((resolve, reject) => (lines.once('line', resolve), p.once('exit', (c) => reject(new Error(`echo probe exited ${c}`)))));
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
  const tsx = path.join(projectRoot(), 'node_modules', '.bin', 'tsx');
  const p = spawn(tsx, [path.join(projectRoot(), 'bench', 'bare-console.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: p.stdout! }).once('line', resolve);
    p.once('exit', (c) => reject(new Error(`bare console exited ${c}`)));
  });
  const port = /^listening (\d+)$/.exec(line)?.[1];
  if (!port) throw new Error(`bare console: ${line}`);
  return { url: `http://127.0.0.1:${port}`, stop: () => p.kill('SIGTERM') };
}
