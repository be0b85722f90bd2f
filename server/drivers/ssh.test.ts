import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Client } from 'ssh2';
import { RemoteCommand } from './ssh';

/** A connection that records the commands run on it and answers each at once. */
function fakeClient(refuse = false) {
  const ran: string[] = [];
  let ended = 0;
  const c = {
    exec(line: string, cb: (err: Error | undefined, s: unknown) => void) {
      if (refuse) return cb(new Error('(SSH) Channel open failure: open failed'), undefined);
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

/** The tag of a command's pid line, read from the line it sends. */
const tagOf = (line: string) => /hangar-pid:[0-9a-f]+:/.exec(line)![0];

describe('RemoteCommand', () => {
  it('sends a line that sh runs as argv, after a line of its own with its pid on stderr', () => {
    const cmd = new RemoteCommand(fakeClient().c);
    const line = cmd.line(['sh', '-c', `echo "it's" $0 "$1"; echo oops >&2; exit 3`, 'zero', 'one two']);
    expect(line).toMatch(/^'exec' 'sh' '-c' 'echo hangar-pid:[0-9a-f]{12}:\$\$ >&2; "\$@"' 'sh' 'sh' '-c' /);
    // Run by a login shell here as sshd would: `$SHELL -c LINE`.
    let stderr = '';
    const r = (() => {
      try {
        return execFileSync('bash', ['-c', line], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        stderr = err.stderr;
        return `${err.stdout}exit ${err.status}`;
      }
    })();
    expect(r).toBe("it's zero one two\nexit 3");
    const lines = stderr.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${tagOf(line)}\\d+$`));
    expect(cmd.stderr(Buffer.from(stderr)).toString()).toBe('oops\n');
  });

  it("takes the pid line off stderr, however it is cut, and keeps the command's own and what came before", () => {
    const cmd = new RemoteCommand(fakeClient().c);
    const tag = tagOf(cmd.line(['true']));
    expect(cmd.stderr(Buffer.from(`rc says hi\n${tag.slice(0, 5)}`))).toEqual(Buffer.alloc(0));
    expect(cmd.stderr(Buffer.from(`${tag.slice(5)}12`))).toEqual(Buffer.alloc(0));
    expect(cmd.stderr(Buffer.from('34\noops'))).toEqual(Buffer.from('rc says hi\noops'));
    expect(cmd.stderr(Buffer.from(`\n${tag}99\n`))).toEqual(Buffer.from(`\n${tag}99\n`));
  });

  it('gives stderr back whole when no pid line comes, at the close or past 4 KiB', () => {
    const cmd = new RemoteCommand(fakeClient().c);
    expect(cmd.stderr(Buffer.from('no sh here'))).toEqual(Buffer.alloc(0));
    expect(cmd.flush()).toEqual(Buffer.from('no sh here'));
    expect(cmd.stderr(Buffer.from('later'))).toEqual(Buffer.from('later'));
    const long = new RemoteCommand(fakeClient().c);
    expect(long.stderr(Buffer.from('x'.repeat(5000)))).toEqual(Buffer.from('x'.repeat(5000)));
  });

  it("stop kills the command's process group over another channel, then closes, once", async () => {
    const f = fakeClient();
    const cmd = new RemoteCommand(f.c);
    cmd.stderr(Buffer.from(`${tagOf(cmd.line(['true']))}4321\n`));
    await Promise.all([cmd.stop(), cmd.stop()]);
    expect(f.ran).toEqual([`'sh' '-c' 'kill -9 -4321'`]);
    expect(f.ended()).toBe(1);
    expect(cmd.stopped).toBe(true);
  });

  it('a stop before the pid came waits for it, and kills then', async () => {
    const f = fakeClient();
    const cmd = new RemoteCommand(f.c);
    const tag = tagOf(cmd.line(['true']));
    const stopped = cmd.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(f.ran).toEqual([]);
    cmd.stderr(Buffer.from(`${tag}777\n`));
    await stopped;
    expect(f.ran).toEqual([`'sh' '-c' 'kill -9 -777'`]);
  });

  it('a stop after the channel closed without a pid only closes', async () => {
    const f = fakeClient();
    const cmd = new RemoteCommand(f.c);
    cmd.flush();
    await cmd.stop();
    expect(f.ran).toEqual([]);
    expect(f.ended()).toBe(1);
  });

  it("a connection that takes no second channel (sshd's MaxSessions 1): the kill goes over a new one, which is closed after", async () => {
    const f = fakeClient(true);
    const f2 = fakeClient();
    const cmd = new RemoteCommand(f.c, async () => f2.c);
    cmd.stderr(Buffer.from(`${tagOf(cmd.line(['true']))}4321\n`));
    await cmd.stop();
    expect(f2.ran).toEqual([`'sh' '-c' 'kill -9 -4321'`]);
    expect([f.ended(), f2.ended()]).toEqual([1, 1]);
  });
});
