import { describe, expect, it } from 'vitest';
import { run } from '../exec';
import { shellQuote } from '../shared/shell';
import { scriptFor } from './agent';

describe('guest agent scripts', () => {
  it('quote every argument so a shell reads it back byte for byte', async () => {
    const hostile = ["it's", '$(touch /pwned)', '`id`', 'a b\tc', 'line\nbreak', '\\', '"', '*', ''];
    const r = await run(['sh', '-c', `${scriptFor(['printf', '%s|', ...hostile])}`]);
    expect(r.stdout).toBe(hostile.map((h) => `${h}|`).join(''));
  });
  it('writes a lone quote as the POSIX idiom', () => {
    expect(shellQuote("'")).toBe(`''\\'''`);
  });
});
