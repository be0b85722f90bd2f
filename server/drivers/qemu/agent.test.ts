import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../exec';
import { AGENT_SCRIPT } from '../images/guest-agent';
import { spawnPty } from '../pty';
import type { ConsoleSource } from '../types';
import { shellQuote } from '@/lib/shell-quote';
import { agentExec, scriptFor } from './agent';

describe('guest agent scripts', () => {
  it('quote every argument so a shell reads it back byte for byte', async () => {
    const hostile = ["it's", '$(touch /pwned)', '`id`', 'a b\tc', 'line\nbreak', '\\', '"', '*', ''];
    const r = await run(['sh', '-c', `${scriptFor(['printf', '%s|', ...hostile])}`]);
    expect(r.stdout).toBe(hostile.map((h) => `${h}|`).join(''));
  });
  it('with a limit, the command is killed once past it, and its arguments still arrive intact', async () => {
    const hostile = ["it's", '$(touch /pwned)', 'a b'];
    const ok = await run(['sh', '-c', scriptFor(['printf', '%s|', ...hostile], 5)]);
    expect(ok).toMatchObject({ code: 0, stdout: hostile.map((h) => `${h}|`).join('') });
    const t0 = performance.now();
    const slow = await run(['sh', '-c', scriptFor(['sleep', '30'], 1)], { timeoutMs: 20_000 });
    expect(slow.timedOut).toBe(false);
    // Killed: coreutils' timeout takes its own process group with it (the agent's `sh` then says 137).
    expect(slow.code === 137 || slow.signal === 'SIGKILL').toBe(true);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
  it('writes a lone quote as the POSIX idiom', () => {
    expect(shellQuote("'")).toBe(`''\\'''`);
  });
});

/**
 * The guest agent's script (images/guest-agent.ts) run by busybox's sh and by dash on a pseudo-terminal, reached through a
 * Unix socket as QEMU's chardev offers ttyS1: agentExec talks to it as it talks to a guest.
 */
describe.each([
  ['busybox sh', ['busybox', 'sh']],
  ['dash', ['dash']],
])('the guest agent under %s', (_name, shell) => {
  let dir: string;
  let sockPath: string;
  let agent: ConsoleSource;
  let server: net.Server;
  /** All the agent wrote on its terminal (its stderr goes there too, as on a guest's serial line). */
  let said = '';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-agent-'));
    fs.writeFileSync(path.join(dir, 'agent.sh'), AGENT_SCRIPT);
    // The guest's `timeout` (the limit's safety net, a second past it) made a no-op: only the kill request can stop a command here.
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'timeout'), '#!/bin/sh\nshift 3\nexec "$@"\n', { mode: 0o755 });
    agent = spawnPty([...shell, path.join(dir, 'agent.sh'), '/dev/tty', dir], {
      cols: 80,
      rows: 24,
      cwd: dir,
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` },
    });
    for (let i = 0; !fs.existsSync(path.join(dir, '.hangar-agent-ready')); i++) {
      if (i > 200) throw new Error('the agent did not start');
      await new Promise((r) => setTimeout(r, 25));
    }
    // One client at a time, as QEMU's socket chardev: the next is taken once the last has gone.
    let current: net.Socket | null = null;
    agent.onData((d) => {
      said += d;
      current?.write(Buffer.from(d, 'latin1'));
    });
    server = net.createServer({ pauseOnConnect: true }, (c) => {
      const take = () => {
        current = c;
        c.on('data', (b) => agent.write(b.toString('latin1')));
        c.on('close', () => {
          current = null;
          waiting.shift()?.();
        });
        c.resume();
      };
      if (current) waiting.push(take);
      else take();
    });
    const waiting: (() => void)[] = [];
    sockPath = path.join(dir, 'agent.sock');
    await new Promise<void>((r) => server.listen(sockPath, r));
  });

  afterAll(() => {
    agent?.close();
    server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
    } catch {
      return false;
    }
  };

  it('answers stdout, stderr and the exit code apart', async () => {
    expect(await agentExec(sockPath, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 5000)).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it.each([
    ['its time limit', (run: (signal?: AbortSignal) => Promise<unknown>) => run()],
    [
      'its caller leaving',
      (run: (signal?: AbortSignal) => Promise<unknown>) => {
        const gone = new AbortController();
        setTimeout(() => gone.abort(), 1000);
        return run(gone.signal);
      },
    ],
  ])('a command stopped by %s is killed in the guest with its children, and the next request is answered at once', async (_why, stop) => {
    const pids = path.join(dir, `pids-${randomUUID()}`);
    const late = path.join(dir, `late-${randomUUID()}`);
    // Its limit (20 s here) is far away: only the kill request can end it in time.
    const slow = stop((signal) =>
      agentExec(sockPath, ['sh', '-c', 'sleep 30 & echo "$$ $!" > "$1"; wait; touch "$2"', 'sh', pids, late], signal ? 20_000 : 1000, signal),
    );
    await expect(slow).rejects.toThrow(/did not finish within 1 s|its caller went away/);
    const t0 = performance.now();
    expect(await agentExec(sockPath, ['echo', 'next'], 5000)).toMatchObject({ code: 0, stdout: 'next\n' });
    // Behind the old command it would have waited for it (30 s).
    expect(performance.now() - t0).toBeLessThan(4000);
    const [sh, sleep] = fs.readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    // Nothing of the request is left in the agent's directory either, once its waiter is done.
    const left = () => fs.readdirSync(dir).filter((n) => n.startsWith('.agent.'));
    for (let i = 0; i < 40 && (alive(sh) || alive(sleep) || left().length); i++) await new Promise((r) => setTimeout(r, 50));
    expect([alive(sh), alive(sleep), fs.existsSync(late), left()]).toEqual([false, false, false, []]);
    // The shell's "Killed" for the stopped command stays off the line (a busybox guest's agent writes to its serial console).
    expect(said).not.toContain('Killed');
  });

  it('a caller gone right after the request: nothing of it stays running, the next request is answered', async () => {
    const late = path.join(dir, `late-${randomUUID()}`);
    const gone = new AbortController();
    const p = agentExec(sockPath, ['sh', '-c', 'sleep 2; touch "$1"', 'sh', late], 10_000, gone.signal);
    // Once the request went out: its kill may come before the guest wrote the command's pid.
    setTimeout(() => gone.abort(), 30);
    await expect(p).rejects.toThrow(/its caller went away/);
    expect(await agentExec(sockPath, ['echo', 'after'], 5000)).toMatchObject({ stdout: 'after\n' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(fs.existsSync(late)).toBe(false);
  });
});
