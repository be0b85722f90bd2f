import { describe, expect, it } from 'vitest';
import type { Client } from 'ssh2';
import { RemoteCommand } from './ssh';

/** A connection that records the commands run on it and answers each at once. */
function fakeClient() {
  const ran: string[] = [];
  let ended = 0;
  const c = {
    exec(line: string, cb: (err: Error | undefined, s: unknown) => void) {
      ran.push(line);
      const handlers: Record<string, () => void> = {};
      const s = { on: (ev: string, fn: () => void) => ((handlers[ev] = fn), s), resume: () => s, stderr: { resume: () => undefined } };
      cb(undefined, s);
      handlers.close?.();
    },
    end: () => void ended++,
  };
  return { c: c as unknown as Client, ran, ended: () => ended };
}

describe('RemoteCommand', () => {
  it('runs argv quoted after the shell says its pid', () => {
    expect(RemoteCommand.line(['sh', '-c', "echo 'hi' $HOME"])).toBe(`echo $$ >&2; 'sh' '-c' 'echo '\\''hi'\\'' $HOME'`);
  });

  it("takes the pid line off stderr, however it is cut, and keeps the command's own", () => {
    const f = fakeClient();
    const cmd = new RemoteCommand(f.c);
    expect(cmd.stderr(Buffer.from('12'))).toEqual(Buffer.alloc(0));
    expect(cmd.stderr(Buffer.from('34\noops'))).toEqual(Buffer.from('oops'));
    expect(cmd.stderr(Buffer.from('\n1234\n'))).toEqual(Buffer.from('\n1234\n'));
  });

  it('leaves stderr whole when its first line is no pid', () => {
    const cmd = new RemoteCommand(fakeClient().c);
    expect(cmd.stderr(Buffer.from('fish: $$ is not supported\nmore'))).toEqual(Buffer.from('fish: $$ is not supported\nmore'));
    const long = new RemoteCommand(fakeClient().c);
    expect(long.stderr(Buffer.from('x'.repeat(30)))).toEqual(Buffer.from('x'.repeat(30)));
  });

  it("stop kills the command's process group over another channel, then closes, once", async () => {
    const f = fakeClient();
    const cmd = new RemoteCommand(f.c);
    cmd.stderr(Buffer.from('4321\n'));
    await Promise.all([cmd.stop(), cmd.stop()]);
    expect(f.ran).toEqual(['kill -9 -4321']);
    expect(f.ended()).toBe(1);
    expect(cmd.stopped).toBe(true);
  });

  it('stop before the pid came only closes', async () => {
    const f = fakeClient();
    await new RemoteCommand(f.c).stop();
    expect(f.ran).toEqual([]);
    expect(f.ended()).toBe(1);
  });
});
