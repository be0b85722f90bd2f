import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StepMachine } from './builtins';
import { runUserStep } from './step-process';

/** A machine that records what the step asked for (the integration tests use real ones). */
function fakeMachine(signal?: AbortSignal) {
  const calls: unknown[][] = [];
  const logs: string[] = [];
  const m: StepMachine = {
    name: 'm1',
    driver: 'qemu',
    exec: async (argv) => (calls.push(['exec', argv]), { stdout: `ran ${argv.join(' ')}`, stderr: '' }),
    writeFile: async (p, content, mode) => void calls.push(['writeFile', p, content, mode]),
    writeTree: async (p, targz) => void calls.push(['writeTree', p, targz]),
    readFile: async (p) => (calls.push(['readFile', p]), Buffer.from([0, 1, 2, 255])),
    console: {
      send: async (d) => void calls.push(['send', d]),
      sendline: async (l) => void calls.push(['sendline', l]),
      expect: async (pattern) => (calls.push(['expect', pattern]), 'matched 42-typed'),
    },
    reboot: async () => void calls.push(['reboot']),
    apply: async (step) => {
      if (step === 'nosuch') throw new Error('Unknown step "nosuch".');
      calls.push(['apply', step]);
    },
    log: (line) => void logs.push(line),
    signal,
  };
  return { m, calls, logs };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-step-process-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const moduleWith = (run: string, name = 's') => {
  const file = path.join(dir, `m${n++}.mjs`);
  fs.writeFileSync(file, `export default { name: ${JSON.stringify(name)}, version: 1, async run(m, args) {\n${run}\n} };\n`);
  return file;
};
const limits = { timeoutS: 20, memoryMib: 256 };

describe('a user step in a process of its own', () => {
  it('uses the machine over IPC: bytes and regular expressions cross as they are, errors come back as errors', async () => {
    const { m, calls, logs } = fakeMachine();
    const module = moduleWith(`
      const r = await m.exec(['echo', args.who]);
      m.log(r.stdout);
      await m.writeFile('/tmp/b', new Uint8Array([9, 8]), '600');
      const back = await m.readFile('/tmp/b');
      if (!Buffer.isBuffer(back) || back.join(',') !== '0,1,2,255') throw new Error('readFile gave ' + back);
      await m.console.sendline('echo 42-typed');
      if (!(await m.console.expect(/(\\d+)-typed/, 5)).includes('42')) throw new Error('expect');
      await m.apply('exec', { argv: ['true'] });
      try { await m.apply('nosuch'); } catch (e) { m.log('caught: ' + e.message); }
      console.log('to stdout');
      await m.reboot();
    `);
    await runUserStep({ module, name: 's', args: { who: 'world' }, machine: m, limits });
    expect(calls).toEqual([
      ['exec', ['echo', 'world']],
      ['writeFile', '/tmp/b', new Uint8Array([9, 8]), '600'],
      ['readFile', '/tmp/b'],
      ['sendline', 'echo 42-typed'],
      ['expect', /(\d+)-typed/],
      ['apply', 'exec'],
      ['reboot'],
    ]);
    expect(logs).toEqual(expect.arrayContaining(['ran echo world', 'caught: Unknown step "nosuch".', 'to stdout']));
  }, 30_000);

  it('fails with the reason: a throw in run(), a throw from a timer, a loop past its time limit, a heap or RSS past its memory limit, an exit', async () => {
    const fails = (run: string, l = limits) => runUserStep({ module: moduleWith(run), name: 's', args: {}, machine: fakeMachine().m, limits: l });
    await expect(fails(`throw new Error('plain failure')`)).rejects.toThrow(/^plain failure$/);
    await expect(fails(`setTimeout(() => { throw new Error('late'); }, 10); await new Promise(() => {});`)).rejects.toThrow(
      /threw outside its run\(\) \(asynchronously\): late/,
    );
    const t0 = performance.now();
    await expect(fails(`for (;;) {}`, { timeoutS: 1, memoryMib: 256 })).rejects.toThrow(/did not finish within its time limit of 1 s/);
    expect(performance.now() - t0).toBeLessThan(10_000);
    await expect(fails(`const keep = []; for (;;) keep.push(new Array(1e5).fill({ a: Math.random() }));`, { timeoutS: 60, memoryMib: 64 })).rejects.toThrow(
      /ran out of memory: its JavaScript heap reached its limit of 64 MiB/,
    );
    await expect(
      fails(`const keep = []; for (;;) { keep.push(Buffer.alloc(16 * 2 ** 20, 1)); await new Promise((r) => setTimeout(r, 5)); }`, {
        timeoutS: 60,
        memoryMib: 64,
      }),
    ).rejects.toThrow(/used \d+ MiB of memory, over its limit of 64 MiB/);
    await expect(fails(`process.exit(3)`)).rejects.toThrow(/process ended before its run\(\) did \(exit code 3\)/);
    await expect(runUserStep({ module: moduleWith('', 'other'), name: 's', args: {}, machine: fakeMachine().m, limits })).rejects.toThrow(
      /no longer exports a step named s/,
    );
  }, 120_000);

  it('is ended when the build is cancelled', async () => {
    const ac = new AbortController();
    const running = runUserStep({
      module: moduleWith(`await new Promise(() => setInterval(() => {}, 1000));`),
      name: 's',
      args: {},
      machine: fakeMachine(ac.signal).m,
      limits,
    });
    setTimeout(() => ac.abort(), 300);
    await expect(running).rejects.toThrow(/was cancelled/);
  }, 30_000);
});
