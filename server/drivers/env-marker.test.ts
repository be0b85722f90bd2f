import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killByEnv, newEnvMarker, pidsWithEnv, withDescendants } from './env-marker';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A /proc of our own: pid -> environ entries (null: a process whose environ cannot be read). */
function fakeProc(procs: Record<string, string[] | null>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-proc-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'self'));
  for (const [pid, env] of Object.entries(procs)) {
    fs.mkdirSync(path.join(dir, pid));
    if (env) fs.writeFileSync(path.join(dir, pid, 'environ'), env.map((e) => `${e}\0`).join(''));
  }
  return dir;
}

describe('env markers', () => {
  it('finds the processes holding the exact entry, first, middle or last', async () => {
    const m = 'HANGAR_EXEC_ID=abc';
    const proc = fakeProc({
      '10': [m, 'PATH=/bin'],
      '11': ['PATH=/bin', m, 'HOME=/'],
      '12': ['PATH=/bin', m],
      '13': ['PATH=/bin', `${m}d`],
      '14': ['PATH=/bin', `X${m}`],
      '15': null,
      '16': [],
    });
    expect((await pidsWithEnv(m, proc)).sort()).toEqual([10, 11, 12]);
  });

  it('fresh markers differ', () => {
    expect(newEnvMarker()).toMatch(/^HANGAR_EXEC_ID=[0-9a-f-]{36}$/);
    expect(newEnvMarker()).not.toBe(newEnvMarker());
  });

  it('kills a real process and its child by the marker it inherited, and nothing else', async () => {
    const marker = newEnvMarker();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    const marked = spawn('sh', ['-c', 'sleep 30 & sleep 30; wait'], { stdio: 'ignore', env: { ...process.env, [marker.split('=')[0]]: marker.split('=')[1] } });
    try {
      let pids: number[] = [];
      for (let i = 0; i < 100 && pids.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 20));
        pids = await pidsWithEnv(marker);
      }
      expect(pids).toContain(marked.pid);
      expect(pids).toHaveLength(3);
      const exited = new Promise((r) => marked.once('exit', (_c, signal) => r(signal)));
      expect(await killByEnv(marker)).toBe(3);
      expect(await exited).toBe('SIGKILL');
      expect(await pidsWithEnv(marker)).toEqual([]);
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
    } finally {
      other.kill('SIGKILL');
      marked.kill('SIGKILL');
    }
  });

  it('kills one that starts a moment after the search began (a client killed while the command was being started)', async () => {
    const marker = newEnvMarker();
    const [name, value] = marker.split('=');
    let late: ReturnType<typeof spawn> | null = null;
    const timer = setTimeout(() => (late = spawn('sleep', ['30'], { stdio: 'ignore', env: { ...process.env, [name]: value } })), 300);
    try {
      const t0 = Date.now();
      expect(await killByEnv(marker, { quietMs: 800 })).toBe(1);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(late!.pid).toBeGreaterThan(0);
      expect(await pidsWithEnv(marker)).toEqual([]);
    } finally {
      clearTimeout(timer);
      (late as ReturnType<typeof spawn> | null)?.kill('SIGKILL');
    }
  });

  it('kills what runs below a marked process with its environment cleared (env -i, su -)', async () => {
    const marker = newEnvMarker();
    const [name, value] = marker.split('=');
    const marked = spawn('sh', ['-c', 'env -i /bin/sleep 30 & wait'], { stdio: 'ignore', env: { ...process.env, [name]: value } });
    try {
      let below: number[] = [];
      for (let i = 0; i < 100 && below.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        below = await withDescendants([marked.pid!]);
      }
      expect(below).toHaveLength(2);
      const sleeper = below.find((p) => p !== marked.pid)!;
      // The sleep does not hold the marker: only its place in the tree finds it.
      expect(await pidsWithEnv(marker)).toEqual([marked.pid]);
      expect(await killByEnv(marker, { quietMs: 200 })).toBe(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(fs.existsSync(`/proc/${sleeper}`) && !fs.readFileSync(`/proc/${sleeper}/stat`, 'utf8').includes(') Z')).toBe(false);
    } finally {
      marked.kill('SIGKILL');
    }
  });

  it('reads the parent after a command name with spaces and parentheses', async () => {
    const dir = fakeProc({ '20': [], '21': [], '22': [], '23': [] });
    fs.writeFileSync(path.join(dir, '20', 'stat'), '20 (sh) S 1 20 20 0');
    fs.writeFileSync(path.join(dir, '21', 'stat'), '21 (a (b) c) S 20 20 20 0');
    fs.writeFileSync(path.join(dir, '22', 'stat'), '22 (x) S 21 20 20 0');
    fs.writeFileSync(path.join(dir, '23', 'stat'), '23 (y) S 1 23 23 0');
    expect((await withDescendants([20], dir)).sort()).toEqual([20, 21, 22]);
  });
});
