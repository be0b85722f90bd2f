import { describe, expect, it } from 'vitest';
import { run } from '../exec';
import { shellQuote } from '@/lib/shell-quote';
import { scriptFor } from './agent';

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
