import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth';
import type { ConsoleRegistry } from '../console/registry';
import { ConsoleSession } from '../console/session';
import type { ConsoleSource } from '@/server/drivers/types';
import { canonical, storedArgs, stepKey } from './step-keys';
import { StepConsole } from './step-console';
import { stepMachine } from './step-machine';
import type { Lookup } from './user-steps';

/** A console whose output the test writes and whose input it reads. */
function fakeConsole() {
  let emit: (d: string) => void = () => undefined;
  const typed: string[] = [];
  const source: ConsoleSource = {
    write: (d) => void typed.push(d),
    resize: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    onData: (fn) => void (emit = fn),
    onExit: () => undefined,
    close: () => undefined,
  };
  const session = new ConsoleSession('machine:m1:serial', { kind: 'machine', machineId: 'm1', channel: 'serial' }, null, source, { scrollbackChars: 1 << 16 });
  session.ring.append('old output: 42-typed\n');
  const registry = {
    attach: async (_p: Principal, sink: Parameters<ConsoleRegistry['attach']>[1]) => ({
      session,
      mode: 'interactive' as const,
      ...session.attach(sink, 'interactive'),
    }),
  } as unknown as ConsoleRegistry;
  // Output goes out in batches on the next tick, as a real session does.
  const out = (d: string) => emit(d);
  return { registry, typed, out, session };
}

const principal = { user: { id: 'u1' }, role: 'admin' } as unknown as Principal;

describe('a step on the console', () => {
  it('types, and waits for text after the last match: split across chunks, colours stripped, output from before attach ignored', async () => {
    const c = fakeConsole();
    const con = new StepConsole(c.registry, principal, 'm1');
    await con.sendline('echo $((6*7))-typed');
    expect(c.typed).toEqual(['echo $((6*7))-typed\r']);
    const waiting = con.expect(/(\d+)-typed/, 5);
    c.out('echo $((6*7))-ty');
    c.out('ped\r\n\x1b[1;32m4');
    c.out('2\x1b[0m-typed\r\n# ');
    expect(await waiting).toBe('echo $((6*7))-typed\n42-typed');
    // The next expect looks after that match only.
    const prompt = con.expect('# ', 5);
    expect(await prompt).toBe('\n# ');
    await expect(con.expect('42-typed', 0.2)).rejects.toThrow(/"42-typed" did not show within 0.2 s; last output: \(none\)/);
    con.close();
    expect(c.session.viewerCount).toBe(0);
  });
});

describe('step keys', () => {
  it('hash canonical arguments: key order does not matter, values and parents do', () => {
    expect(canonical({ b: [1, { d: 2, c: 3 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":3,"d":2}]}');
    const k = stepKey('p', { step: 'file', args: { path: '/a', content: 'x' } }, '1');
    expect(stepKey('p', { step: 'file', args: { content: 'x', path: '/a' } }, '1')).toBe(k);
    expect(stepKey('p', { step: 'file', args: { content: 'y', path: '/a' } }, '1')).not.toBe(k);
    expect(stepKey('q', { step: 'file', args: { content: 'x', path: '/a' } }, '1')).not.toBe(k);
    expect(stepKey('p', { step: 'file', args: { content: 'x', path: '/a' } }, '2')).not.toBe(k);
  });

  it('keeps long argument values in the tree as a digest and length', () => {
    const big = 'A'.repeat(5000);
    expect(storedArgs({ path: '/srv', archive: big, mode: '644', argv: ['x', big] })).toEqual({
      path: '/srv',
      archive: expect.stringMatching(/^sha256:[0-9a-f]{16} \(5000 chars\)$/),
      mode: '644',
      argv: ['x', expect.stringMatching(/^sha256:/)],
    });
  });
});

describe("a step's commands", () => {
  const deps = (exec: () => Promise<unknown>) => ({ machines: { exec }, jobs: {}, consoles: {} }) as unknown as Parameters<typeof stepMachine>[0];
  const ctx = { log: () => undefined } as unknown as Parameters<typeof stepMachine>[4];

  it('fail with a clear reason once past their time limit, whatever the driver does', async () => {
    // A driver whose exec never answers (a guest left paused did that once).
    const m = stepMachine(
      deps(() => new Promise(() => undefined)),
      principal,
      { id: 'm1', name: 'm1', driver: 'qemu' },
      {} as Lookup,
      ctx,
    );
    const t0 = performance.now();
    await expect(m.exec(['sleep', '30'], 1)).rejects.toThrow(
      "sleep did not finish within its time limit of 1 s (the step's timeoutS, or --timeout S, sets it)",
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    m.close();
  });

  it('pass on what the command said when it fails in time', async () => {
    const m = stepMachine(
      deps(async () => ({ code: 3, stdout: '', stderr: 'broken\n', durationMs: 1 })),
      principal,
      { id: 'm1', name: 'm1', driver: 'qemu' },
      {} as Lookup,
      ctx,
    );
    await expect(m.exec(['sh', '-c', 'exit 3'], 5)).rejects.toThrow('sh exited with 3: broken');
    m.close();
  });
});
