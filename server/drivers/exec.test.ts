import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstLine, run, spawnDuplex, which } from './exec';

/** A process that is gone (or a zombie that nobody reaped yet: it runs no more). */
const gone = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
};

/** The spawn helper's pid: the child of this process that runs spawn-helper.mjs. */
const helperPid = () =>
  fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .find((pid) => {
      try {
        return (
          fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spawn-helper.mjs') &&
          fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[3] === String(process.pid)
        );
      } catch {
        return false;
      }
    });

describe('run', () => {
  it('passes arguments verbatim: no shell ever sees them', async () => {
    const hostile = '$(touch /tmp/hangar-pwned); `id`; rm -rf / && echo "x" | cat';
    const r = await run(['printf', '%s', hostile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(hostile);
  });
  it('captures stderr and the exit code', async () => {
    const r = await run(['ls', '/definitely/not/here']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/No such file/);
  });
  it('kills on timeout', async () => {
    const r = await run(['sleep', '10'], { timeoutMs: 100 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(5000);
  });
  it('stops as soon as a marker appears', async () => {
    const r = await run(['sh', '-c', 'echo READY; sleep 10'], { until: 'READY', timeoutMs: 5000 });
    expect(r.matched).toBe(true);
    expect(r.timedOut).toBe(false);
  });
  it('finds a marker split across two chunks of output', async () => {
    const r = await run(['sh', '-c', 'printf "x RE"; sleep 0.3; printf "ADY y"; sleep 10'], { until: 'READY', timeoutMs: 5000 });
    expect(r.matched).toBe(true);
    expect(r.timedOut).toBe(false);
  });
  it('reports a missing binary instead of throwing', async () => {
    const r = await run(['/nonexistent/binary']);
    expect(r.code).toBeNull();
    expect(r.stderr).toMatch(/ENOENT/);
  });
  it('survives a child that stops reading its input early (EPIPE)', async () => {
    const r = await run(['head', '-c', '1'], { input: Buffer.alloc(8 * 1024 * 1024, 120) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('x');
  });
  it('feeds stdin', async () => {
    expect((await run(['cat'], { input: 'abc' })).stdout).toBe('abc');
  });
  it('streams stdin a chunk at a time, writes stdout to a file, and says the pid it runs as', async () => {
    async function* chunks() {
      for (let i = 0; i < 100; i++) yield Buffer.alloc(64 * 1024, 97 + (i % 26));
    }
    expect((await run(['wc', '-c'], { stdin: chunks() })).stdout.trim()).toBe(String(100 * 64 * 1024));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-run-')), 'out');
    const r = await run(['printf', 'into %s', 'the file'], { stdoutFile: file });
    expect([r.code, r.stdout, fs.readFileSync(file, 'utf8')]).toEqual([0, '', 'into the file']);
    expect(() => run(['true'], { stdoutFile: '/nonexistent/dir/out' })).toThrow(/ENOENT/);
    let pid = 0;
    const self = await run(['sh', '-c', 'echo $$'], { onSpawn: (p) => (pid = p) });
    expect(Number(self.stdout)).toBe(pid);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
  it('a command spawn refuses (a NUL byte in an argument) rejects the call, and the next one runs', async () => {
    await expect(run(['echo', 'a\0b'])).rejects.toThrow(/null bytes/);
    expect((await run(['echo', 'still here'])).stdout).toBe('still here\n');
  });
  it('stops feeding stdin once the command stopped reading it', async () => {
    let taken = 0;
    async function* endless() {
      for (; taken < 10_000; taken++) yield Buffer.alloc(64 * 1024, 120);
    }
    const r = await run(['head', '-c', '1'], { stdin: endless() });
    expect([r.code, r.stdout]).toEqual([0, 'x']);
    expect(taken).toBeLessThan(10_000);
  });
  it('a command is stopped by its abort signal, its whole process group with it', async () => {
    const ac = new AbortController();
    let pid = 0;
    const r = run(['sh', '-c', 'sleep 30 & echo $!; wait'], { signal: ac.signal, onLine: (l) => (pid = Number(l)) });
    await expect.poll(() => pid).toBeGreaterThan(0);
    ac.abort();
    expect((await r).signal).toBe('SIGKILL');
    await expect.poll(() => gone(pid)).toBe(true);
  });
  it('a helper that dies ends its runs and their process groups, and the next run starts a new one', async () => {
    let pid = 0;
    const r = run(['sh', '-c', 'echo $$; sleep 30'], { onLine: (l) => (pid = Number(l)) });
    await expect.poll(() => pid).toBeGreaterThan(0);
    const helper = helperPid();
    expect(helper).toBeDefined();
    process.kill(helper!, 'SIGKILL');
    const ended = await r;
    expect(ended.code).toBeNull();
    expect(ended.stderr).toMatch(/process that starts commands ended \(SIGKILL\)/);
    await expect.poll(() => gone(pid)).toBe(true);
    expect((await run(['echo', 'again'])).stdout).toBe('again\n');
    expect(helperPid()).not.toBe(helper);
  });
  it('spawnDuplex: a byte stream through the process, and destroying it kills its process group', async () => {
    const d = spawnDuplex(['sh', '-c', 'sleep 30 & echo $!; exec cat']);
    const chunks: Buffer[] = [];
    d.on('data', (b: Buffer) => chunks.push(b));
    // Destroyed mid-stream, Duplex.from says the pipes were aborted: its users (the SSH tunnel) listen for that too.
    d.on('error', () => undefined);
    d.write('through\n');
    await expect.poll(() => Buffer.concat(chunks).toString()).toMatch(/^\d+\nthrough\n$/);
    const pid = Number(Buffer.concat(chunks).toString().split('\n')[0]);
    d.destroy();
    await expect.poll(() => gone(pid)).toBe(true);
  });
  it('finds executables on PATH', async () => {
    expect(await which('sh')).toMatch(/\/sh$/);
    expect(await which('no-such-tool-hangar')).toBeNull();
  });
});

describe('firstLine', () => {
  it("tells a failure by its first line that is not a warning (apt's W: comes before its E:), a warning when nothing else is said", () => {
    const apt =
      "W: Download is performed unsandboxed as root as file 'x.deb' couldn't be accessed by user '_apt'.\n" +
      "E: Failed to fetch http://m/x.deb  Temporary failure resolving 'm'\n";
    expect(firstLine(apt)).toBe("E: Failed to fetch http://m/x.deb  Temporary failure resolving 'm'");
    expect(firstLine('\n  warning: only this\n')).toBe('warning: only this');
    expect(firstLine('\n first \nsecond')).toBe('first');
    expect(firstLine('  \n')).toBe('');
  });
});
