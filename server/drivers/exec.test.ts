import { describe, expect, it } from 'vitest';
import { firstLine, run, which } from './exec';

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
