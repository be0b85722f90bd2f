import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { StepHost, type StepHostOptions } from './step-host';
import { StepRegistry, lookup } from './user-steps';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-step-host-'));
const hosts: StepHost[] = [];
const registries: StepRegistry[] = [];
afterAll(() => {
  for (const h of hosts) h.close();
  for (const r of registries) r.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const opts: StepHostOptions = { timeoutS: 5, memoryMib: 64, settleMs: 200, idleS: 30 };
const hostOf = (source: string, o: Partial<StepHostOptions> = {}, onBroken?: (why: string) => void) => {
  const file = path.join(dir, `h${n++}.mjs`);
  fs.writeFileSync(file, source);
  const h = new StepHost(file, { ...opts, ...o }, onBroken);
  hosts.push(h);
  return h;
};

/** zod by its path: these modules are not compiled (the registry's are, with Hangar's node_modules to resolve from). */
const ZOD = pathToFileURL(path.resolve('node_modules/zod/index.js')).href;
const GOOD = `import { z } from '${ZOD}';
export default [
  {
    name: 'greet', version: 2, usage: 'greet WHO', timeoutS: 5, memoryMib: 100,
    args: z.object({ who: z.string().regex(/^[a-z]+$/, 'lowercase letters'), times: z.number().default(1) }),
    fromWords: (w) => { if (w[0] === 'boom') throw new Error('no booms'); if (w[0] === 'spin') for (;;) {} return { who: w[0] ?? '' }; },
    async run() {},
  },
  { name: 'plain', version: 'x', transient: true, async run() {} },
];
`;

describe("a user step module's code outside the server", () => {
  it('describes its steps as plain data and checks words and arguments with its fromWords and zod schema', async () => {
    const h = hostOf(GOOD, { timeoutS: 2 });
    expect(await h.describe()).toEqual([
      { name: 'greet', version: '2', transient: false, usage: 'greet WHO', timeoutS: 5, memoryMib: 100 },
      { name: 'plain', version: 'x', transient: true, timeoutS: 1800, memoryMib: 1024 },
    ]);
    expect(await h.check('greet', { words: ['world'] })).toEqual({ ok: true, args: { who: 'world', times: 1 } });
    expect(await h.check('greet', { args: { who: 'World' } })).toEqual({ ok: false, issue: { path: ['who'], message: 'lowercase letters' } });
    expect(await h.check('greet', { words: ['boom'] })).toEqual({ ok: false, error: 'fromWords threw: no booms' });
    expect(await h.check('plain', { words: ['a', 'b'] })).toEqual({ ok: true, args: { words: ['a', 'b'] } });
    expect(await h.check('nosuch', { words: [] })).toEqual({ ok: false, error: 'the module has no step named nosuch' });
    // A fromWords that never returns: that check fails with the time limit, the next one gets a new process.
    await expect(h.check('greet', { words: ['spin'] })).rejects.toThrow(/did not answer within 2 s/);
    expect(await h.check('greet', { words: ['again'] })).toEqual({ ok: true, args: { who: 'again', times: 1 } });
  }, 30_000);

  it('refuses a module whose top level throws, hangs, throws from a timer, eats memory or exits, or that is not a step', async () => {
    // A loaded host may take seconds to start a process: only the hanging ones get a short limit.
    const refused = (source: string, o?: Partial<StepHostOptions>) => hostOf(source, { timeoutS: 45, ...o }).describe();
    // Side by side: each is its own process.
    await Promise.all([
      expect(refused(`throw new Error('at once');`)).rejects.toThrow(/^at once$/),
      expect(refused(`for (;;) {}`, { timeoutS: 1 })).rejects.toThrow(/^it did not load within 1 s \(its top level runs too long\)$/),
      expect(refused(`await new Promise(() => {});`, { timeoutS: 1 })).rejects.toThrow(/did not load within 1 s/),
      expect(refused(`setTimeout(() => { throw new Error('from a timer'); }, 20);\nexport default { name: 'a', version: 1, async run() {} };`)).rejects.toThrow(
        /^its code threw asynchronously: from a timer$/,
      ),
      expect(refused(`const keep = []; for (;;) keep.push(new Array(1e5).fill({ a: Math.random() }));`)).rejects.toThrow(
        /^it ran out of memory: its JavaScript heap reached the limit of 64 MiB$/,
      ),
      expect(refused(`const keep = []; for (;;) { keep.push(Buffer.alloc(16 * 2 ** 20, 1)); await new Promise((r) => setTimeout(r, 5)); }`)).rejects.toThrow(
        /^it used \d+ MiB of memory, over its limit of 64 MiB \(\+128 for Node; the limit for loading a module\)$/,
      ),
      expect(refused(`process.exit(3);`)).rejects.toThrow(/^its process ended \(exit code 3\)$/),
      expect(refused(`export default { name: 42 };`)).rejects.toThrow(/not a step/),
      expect(refused(`export default { name: 'a', version: 1, timeoutS: 0, async run() {} };`)).rejects.toThrow(/a: timeoutS must be a number from 1/),
    ]);
  }, 120_000);

  it('calls a module broken when what its top level left running throws later', async () => {
    let broken = '';
    const h = hostOf(
      `setTimeout(() => { throw new Error('much later'); }, 600);\nexport default { name: 'a', version: 1, async run() {} };`,
      {},
      (why) => (broken = why),
    );
    expect((await h.describe()).map((d) => d.name)).toEqual(['a']);
    await expect.poll(() => broken, { timeout: 5000 }).toBe('its code threw asynchronously: much later');
  }, 30_000);

  it('ends its process when idle, and starts another for the next check', async () => {
    const h = hostOf(GOOD, { idleS: 0.3 });
    await h.describe();
    await new Promise((r) => setTimeout(r, 800));
    expect(await h.check('greet', { words: ['later'] })).toMatchObject({ ok: true });
  }, 30_000);
});

describe('the steps directory', () => {
  it('loads a module once per content, lists one that does not load with its error, and checks chains in the module', async () => {
    const steps = fs.mkdtempSync(path.join(dir, 'steps-'));
    const count = path.join(dir, 'loads.txt');
    const source = (v: number) =>
      `import fs from 'node:fs';\nfs.appendFileSync(${JSON.stringify(count)}, 'loaded\\n');\n` +
      GOOD.replace('version: 2', `version: ${v}`).replace(`import { z } from '${ZOD}';\n`, '');
    fs.writeFileSync(path.join(steps, 'greet.ts'), `import { z } from 'zod';\n${source(2)}`);
    fs.writeFileSync(path.join(steps, 'spin.ts'), `for (;;) {}\nexport default { name: 'spin', version: 1, async run() {} };\n`);
    const reg = new StepRegistry(steps, path.join(dir, 'build'), { ...opts, timeoutS: 2 });
    registries.push(reg);
    const first = await reg.scan();
    expect([...first.steps.keys()]).toEqual(['greet', 'plain']);
    expect(first.steps.get('greet')?.info).toMatchObject({ version: expect.stringMatching(/^2\+[0-9a-f]{12}$/), usage: 'greet WHO', base: false });
    expect(first.steps.get('greet')?.limits).toEqual({ timeoutS: 5, memoryMib: 100 });
    expect(first.problems).toEqual([{ file: path.join(steps, 'spin.ts'), error: 'it did not load within 2 s (its top level runs too long)' }]);
    const t0 = performance.now();
    const again = await reg.scan();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(again.problems).toEqual(first.problems);
    expect(fs.readFileSync(count, 'utf8')).toBe('loaded\n');

    const lk = lookup(again);
    expect(lk.info('greet')?.version).toBe(first.steps.get('greet')?.info.version);
    expect(lk.info('exec')).toMatchObject({ version: '1', base: false, transient: false });
    expect(await lk.check({ step: 'greet', args: {}, words: ['world'] }, 1)).toEqual({ step: 'greet', args: { who: 'world', times: 1 } });
    await expect(lk.check({ step: 'greet', args: { who: 'World' } }, 1)).rejects.toMatchObject({
      message: 'greet: who: lowercase letters (usage: greet WHO)',
      field: 'who',
    });
    await expect(lk.check({ step: 'greet', args: {}, words: ['boom'] }, 1)).rejects.toThrow(/^greet: fromWords threw: no booms$/);
    await expect(lk.check({ step: 'greet', args: {}, words: ['x'] }, 0)).rejects.toThrow(/A chain starts with a base/);
    await expect(lk.check({ step: 'spin', args: {} }, 1)).rejects.toThrow('Unknown step "spin".');
    await expect(lk.check({ step: 'exec', args: {}, words: ['--'] }, 1)).rejects.toThrow(/exec: argv/);
    await expect(lk.check({ step: 'greet', args: {}, words: ['spin'] }, 1)).rejects.toThrow(
      /^greet: checking its arguments failed: it did not answer within 2 s \(its fromWords or args schema runs too long\)$/,
    );

    // One that does not compile is listed with esbuild's words, and tried again at the next scan.
    fs.writeFileSync(path.join(steps, 'typo.ts'), 'export default {\n');
    expect((await reg.scan()).problems.find((p) => p.file.endsWith('typo.ts'))?.error).toMatch(
      /typo\.ts:2:0: ERROR: Expected identifier but found end of file/,
    );
    fs.writeFileSync(path.join(steps, 'typo.ts'), "export default { name: 'typo', version: 1, async run() {} };\n");
    expect((await reg.scan()).steps.has('typo')).toBe(true);

    // Its top level left a timer that throws after it loaded: listed with that from then on.
    fs.writeFileSync(
      path.join(steps, 'late.ts'),
      "setTimeout(() => { throw new Error('later'); }, 600);\nexport default { name: 'late', version: 1, async run() {} };\n",
    );
    expect((await reg.scan()).steps.has('late')).toBe(true);
    await expect
      .poll(async () => (await reg.scan()).problems.find((p) => p.file.endsWith('late.ts'))?.error, { timeout: 5000 })
      .toBe('its code threw asynchronously: later');
    fs.rmSync(path.join(steps, 'late.ts'));

    // An edit is a new module: loaded again, a new version.
    fs.writeFileSync(path.join(steps, 'greet.ts'), `import { z } from 'zod';\n${source(3)}`);
    fs.rmSync(path.join(steps, 'spin.ts'));
    const edited = await reg.scan();
    expect(edited.steps.get('greet')?.info.version).toMatch(/^3\+/);
    expect(edited.problems).toEqual([]);
    expect(fs.readFileSync(count, 'utf8')).toBe('loaded\nloaded\n');
  }, 60_000);
});
