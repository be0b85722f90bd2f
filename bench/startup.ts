import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, round } from './stats';

const RUNS = 5;
const root = fileURLToPath(new URL('..', import.meta.url));

/** Spawn a server and time it from process start to its first 200 on the health URL. */
async function timeToHealthy(args: string[], env: Record<string, string>, pathName: string): Promise<number> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b) => (out += b));
  proc.stderr!.on('data', (b) => (out += b));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', () => {
        const m = /(?:listening on|LISTENING) http:\/\/[^:]+:(\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      proc.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)));
    });
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}${pathName}`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

export async function run() {
  if (!fs.existsSync(path.join(root, 'dist', 'server.js')) || !fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) {
    throw new Error('Build first: npm run build (./hangar test does).');
  }
  // Baseline: a bare Node http server answering the same kind of request, measured the same way.
  const bare =
    `require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log('LISTENING ` + `http://127.0.0.1:'+this.address().port)})`;
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) baseline.push(await timeToHealthy(['-e', bare], {}, '/'));

  const cold: number[] = [];
  const warm: number[] = [];
  const noUi: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Cold: a fresh data dir (migrations, first admin with scrypt). Warm: the same dir again.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-start-'));
    const args = ['dist/server.js', '--port', '0', '--data', dir];
    const env = { HANGAR_ADMIN_PASSWORD: 'bench-password', DATABASE_URL: '' };
    cold.push(await timeToHealthy(args, env, '/api/health'));
    warm.push(await timeToHealthy(args, env, '/api/health'));
    noUi.push(await timeToHealthy([...args, '--no-ui'], env, '/api/health'));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const med = (a: number[]) => percentile(a, 50);
  return {
    runs: RUNS,
    cold_start_ms: round(med(cold), 0),
    warm_start_ms: round(med(warm), 0),
    api_only_start_ms: round(med(noUi), 0),
    bare_node_http_ms: round(med(baseline), 0),
    cold_vs_bare_node_ratio: round(med(cold) / med(baseline)),
  };
}
