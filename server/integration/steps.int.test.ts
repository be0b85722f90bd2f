import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import type { BuildResult } from '@/lib/contracts/steps';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, startServer, type RunningServer, tearDown } from './harness';
import { testTempDir } from './temp-dir';

/**
 * Cached step trees on real QEMU (busybox): a chain's results are live snapshots, a second run
 * restores the deepest cached one, a changed argument reruns from that step only, transient
 * steps are never cached, two identical chains started together build once.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const finished = async (job: Job, ms = 300_000) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const build = async (chain: string, name: string, transient = false) => {
  const t0 = performance.now();
  const j = await finished(await api.steps.build({ chain, name, transient }));
  return { ...(j.result as BuildResult), ms: performance.now() - t0, job: j.id };
};
/** The step processes running now (node ... dist/step-runner.js ROLE MODULE): their role and module. */
const stepProcesses = () =>
  fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const at = argv.indexOf(path.resolve('dist/step-runner.js'));
        return at > 0 ? [{ role: argv[at + 1], module: argv[at + 2] ?? '' }] : [];
      } catch {
        return [];
      }
    });
const CHAIN = 'busybox + file /etc/motd "hello from a step" + exec -- sh -c "cat /etc/motd > /tmp/seen"';

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  await finished(await api.images.build({ kind: 'busybox' }), 240_000);
}, 300_000);

afterAll(() => tearDown(srv, api), 120_000);

describe('step trees', () => {
  it('caches each step of a chain; the second run restores the last one and runs nothing', async () => {
    const cold = await build(CHAIN, 'st-a');
    expect(cold).toMatchObject({ machine: 'st-a', hits: 0, ran: 3 });
    expect((await api.machines.exec('st-a', ['cat', '/tmp/seen'])).stdout).toBe('hello from a step');
    const nodes = (await api.steps.nodes()).items;
    expect(nodes.map((n) => n.step)).toEqual(['os.busybox', 'file', 'exec']);
    expect(nodes[1].parentKey).toBe(nodes[0].key);
    expect(nodes.every((n) => n.snapshotId && n.sizeBytes > 0 && n.durationMs > 0)).toBe(true);

    const warm = await build(CHAIN, 'st-b');
    expect(warm).toMatchObject({ machine: 'st-b', hits: 3, ran: 0, keys: cold.keys });
    // The restored machine is in the chain's last state (memory included: /tmp is a tmpfs).
    expect((await api.machines.exec('st-b', ['cat', '/tmp/seen'])).stdout).toBe('hello from a step');
    expect(warm.ms * 2).toBeLessThan(cold.ms);
    expect((await api.steps.nodes()).items.find((n) => n.key === cold.keys[2])?.hits).toBe(1);
  }, 600_000);

  it('reruns from a changed argument only, keeps transient steps out of the cache, and a failing step fails the build', async () => {
    const changed = await build(CHAIN.replace('hello from a step', 'hello again'), 'st-c');
    expect(changed).toMatchObject({ hits: 1, ran: 2 });
    expect((await api.machines.exec('st-c', ['cat', '/tmp/seen'])).stdout).toBe('hello again');
    const before = (await api.steps.nodes()).items.length;
    const machinesBefore = (await api.machines.list()).items.length;
    const t = await build(`${CHAIN} + exec -- touch /tmp/transient`, 'st-d', true);
    expect(t).toMatchObject({ hits: 3, ran: 1 });
    expect((await api.steps.nodes()).items.length).toBe(before);
    // It ran on a throwaway fork, removed after: the chain's machine does not have its file, and no other machine is left.
    expect((await api.machines.exec('st-d', ['sh', '-c', 'test -e /tmp/transient && echo there || echo absent'])).stdout.trim()).toBe('absent');
    expect((await api.machines.exec('st-d', ['cat', '/tmp/seen'])).stdout).toBe('hello from a step');
    expect((await api.machines.list()).items.map((m) => m.name).filter((n) => n.startsWith('st-d'))).toEqual(['st-d']);
    expect((await api.machines.list()).items.length).toBe(machinesBefore + 1);
    const log = (await api.jobs.logs(t.job)).items.map((l) => l.line);
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^step exec: transient, ran on a throwaway fork st-d-t[0-9a-f]{6} in \d+ ms/)]));
    // A transient step that fails fails the build, and its fork goes too.
    const failed = await jobDone(api, await api.steps.build({ chain: `${CHAIN} + probe http://127.0.0.1:9/ --timeout 1`, name: 'st-d2' }));
    expect(failed.error).toMatch(/Step 4 \(probe\) failed: .* it ran on a throwaway fork \(removed\); st-d2 is as the steps before it left it/);
    expect((await api.machines.list()).items.map((m) => m.name).filter((n) => n.startsWith('st-d2'))).toEqual(['st-d2']);
    // A build's creates, checkpoints and forks are its children: one job for the person, the rest under it.
    const kids = (await api.jobs.list({ parent: t.job })).items;
    expect(kids.map((k) => k.kind).sort()).toEqual(['machine.destroy', 'snapshot.fork', 'snapshot.fork']);
    expect(kids.every((k) => k.parentId === t.job && k.state === 'succeeded')).toBe(true);
    const bad = await jobDone(api, await api.steps.build({ chain: 'busybox + exec -- sh -c "echo broken >&2; exit 3"', name: 'st-e' }));
    expect(bad.state).toBe('failed');
    expect(bad.error).toMatch(/Step 2 \(exec\) failed: sh exited with 3: broken/);
    expect((await api.steps.nodes()).items.filter((n) => n.step === 'exec' && (n.args.argv as string[]).includes('echo broken >&2; exit 3'))).toEqual([]);
  }, 600_000);

  it('fails a command past its time limit with that reason; the server serves and the machine answers again', async () => {
    const t0 = performance.now();
    const slow = await jobDone(api, await api.steps.build({ chain: 'busybox + exec --timeout 2 -- sleep 30', name: 'st-slow' }), 120_000);
    expect(slow.state).toBe('failed');
    expect(slow.error).toMatch(/^Step 2 \(exec\) failed: sleep did not finish within its time limit of 2 s \(the step's timeoutS, or --timeout S, sets it\)/);
    // Well before the sleep would have ended on its own (the base step is cached by the tests before this one).
    expect(performance.now() - t0).toBeLessThan(28_000);
    expect((await api.steps.nodes()).items.filter((n) => n.step === 'exec' && (n.args.argv as string[]).join(' ') === 'sleep 30')).toEqual([]);
    // The guest ended the command too: its agent runs the next one.
    const again = await api.machines.exec('st-slow', ['echo', 'back'], 10);
    expect(again).toMatchObject({ code: 0, stdout: 'back\n' });
    await finished(await api.machines.destroy('st-slow'));
  }, 180_000);

  it('builds a shared prefix once when two identical chains start together', async () => {
    const chain = 'busybox + exec -- sh -c "echo $RANDOM > /tmp/once"';
    const [a, b] = await Promise.all([build(chain, 'st-f'), build(chain, 'st-g')]);
    expect([a.ran, b.ran].sort()).toEqual([0, 1]);
    const once = async (m: string) => (await api.machines.exec(m, ['cat', '/tmp/once'])).stdout;
    expect(await once('st-f')).toBe(await once('st-g'));
  }, 600_000);

  it('refuses bad chains with the step and field named, from the API and the CLI', async () => {
    await expect(api.steps.build({ chain: 'busybox + nosuch' })).rejects.toMatchObject({ status: 400, message: 'Unknown step "nosuch".' });
    await expect(api.steps.build({ chain: 'busybox + apt "bad name"' })).rejects.toMatchObject({ status: 400, issues: [{ path: 'steps.packages.0' }] });
    await expect(api.steps.build({ chain: 'busybox + file /x "open' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('line 1, column 19'),
    });
    const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-steps-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    // A step the CLI does not know goes to the server (it may be a user step there), which refuses it.
    expect(await run([process.execPath, 'dist/cli.js', 'build', 'busybox', '+', 'wat'], { env, timeoutMs: 30_000 })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Unknown step "wat"'),
    });
    const tree = await run([process.execPath, 'dist/cli.js', 'steps'], { env, timeoutMs: 30_000 });
    expect(tree.stdout).toMatch(/^[0-9a-f]{12} {2}os\.busybox/m);
    expect(tree.stdout).toMatch(/^ {2}[0-9a-f]{12} {2}file /m);
  }, 60_000);

  it('builds from a chain file that reads a local file: its content is in the key', async () => {
    const dir = testTempDir('hangar-chain-');
    const env = { XDG_CONFIG_HOME: path.join(dir, 'cfg'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    fs.writeFileSync(path.join(dir, 'motd.txt'), 'from a local file');
    fs.writeFileSync(
      path.join(dir, 'web.yaml'),
      'base: busybox\nsteps:\n  - file: { path: /etc/motd, content: "@motd.txt" }\n  - exec: [sh, -c, "cat /etc/motd > /tmp/seen"]\n',
    );
    const first = await run([process.execPath, 'dist/cli.js', '--json', 'build', '-f', path.join(dir, 'web.yaml'), '--name', 'st-y1'], {
      env,
      timeoutMs: 300_000,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ machine: 'st-y1', hits: 1, ran: 2 });
    expect((await api.machines.exec('st-y1', ['cat', '/tmp/seen'])).stdout).toBe('from a local file');
    // The same file again hits the cache; changed content reruns from the file step.
    expect(
      JSON.parse(
        (await run([process.execPath, 'dist/cli.js', '--json', 'build', '-f', path.join(dir, 'web.yaml'), '--name', 'st-y2'], { env, timeoutMs: 300_000 }))
          .stdout,
      ),
    ).toMatchObject({ hits: 3, ran: 0 });
    fs.writeFileSync(path.join(dir, 'motd.txt'), 'changed');
    expect(
      JSON.parse(
        (await run([process.execPath, 'dist/cli.js', '--json', 'build', '-f', path.join(dir, 'web.yaml'), '--name', 'st-y3'], { env, timeoutMs: 300_000 }))
          .stdout,
      ),
    ).toMatchObject({ hits: 1, ran: 2 });
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'base: busybox\nsteps:\n  - exec: [a, b\n');
    expect(await run([process.execPath, 'dist/cli.js', 'build', '-f', path.join(dir, 'bad.yaml')], { env, timeoutMs: 30_000 })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/bad\.yaml: YAML: .*\(line \d+, column \d+\)/),
    });
  }, 600_000);

  it('loads user steps from the steps directory: schema, words, apply(), and an edit invalidates what they cached', async () => {
    const dir = path.join(srv.dataDir, 'steps');
    fs.mkdirSync(dir, { recursive: true });
    const stepSource = (greeting: string) => `import { z } from 'zod';
export default {
  name: 'greet',
  version: 1,
  usage: 'greet WHO',
  args: z.object({ who: z.string().regex(/^[a-z]+$/, 'lowercase letters') }),
  fromWords: (words: string[]) => ({ who: words[0] ?? '' }),
  async run(machine, args) {
    await machine.writeFile('/tmp/greeting', '${greeting} ' + args.who, '644');
    await machine.apply('exec', { argv: ['sh', '-c', 'cat /tmp/greeting > /tmp/greeted'] });
  },
};
`;
    fs.writeFileSync(path.join(dir, 'greet.ts'), stepSource('hello'));
    fs.writeFileSync(path.join(dir, 'broken.ts'), 'export default { name: 42 };\n');
    const catalog = (await api.steps.catalog()).items;
    expect(catalog.find((s) => s.name === 'greet')).toMatchObject({ usage: 'greet WHO', version: expect.stringMatching(/^1\+[0-9a-f]{12}$/) });
    expect(catalog.find((s) => s.name === 'broken.ts')?.description).toMatch(/does not load: .*not a step/);
    const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-greet-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const first = await run([process.execPath, 'dist/cli.js', '--json', 'build', 'busybox', '+', 'greet', 'world', '--name', 'st-u1'], {
      env,
      timeoutMs: 300_000,
    });
    expect(first.code, first.stderr).toBe(0);
    expect((await api.machines.exec('st-u1', ['cat', '/tmp/greeted'])).stdout).toBe('hello world');
    await expect(api.steps.build({ chain: 'busybox + greet World' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('greet: who: lowercase letters'),
    });
    expect((await build('busybox + greet world', 'st-u2')).ran).toBe(0);
    // Editing the module changes its version: what it cached no longer hits.
    fs.writeFileSync(path.join(dir, 'greet.ts'), stepSource('bonjour'));
    expect((await build('busybox + greet world', 'st-u3')).ran).toBe(1);
    expect((await api.machines.exec('st-u3', ['cat', '/tmp/greeted'])).stdout).toBe('bonjour world');
    fs.rmSync(path.join(dir, 'broken.ts'));
  }, 600_000);

  it('builds from a TypeScript recipe: a directory copied in, a web server probed, the console typed into, files read back', async () => {
    const dir = testTempDir('hangar-recipe-it-');
    fs.mkdirSync(path.join(dir, 'site', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'site', 'index.html'), 'from a directory\n');
    fs.writeFileSync(path.join(dir, 'site', 'sub', 'a.txt'), 'nested');
    fs.writeFileSync(path.join(dir, 'helper.ts'), "export const page: string = 'from a directory';\n");
    fs.writeFileSync(
      path.join(dir, 'recipe.ts'),
      `import { page } from './helper';
export default {
  base: 'busybox',
  steps: [
    { file: { path: '/srv/site', content: '@site' } },
    { sh: ['-c', 'httpd -h /srv/site -p 8080'] },
    'console-check',
    { probe: ['http://127.0.0.1:8080/', page] },
  ],
};
`,
    );
    fs.mkdirSync(path.join(srv.dataDir, 'steps'), { recursive: true });
    fs.writeFileSync(
      path.join(srv.dataDir, 'steps', 'console-check.ts'),
      `export default {
  name: 'console-check',
  version: 1,
  async run(m) {
    await m.console.sendline('echo $((6*7))-typed');
    const seen = await m.console.expect(/(\\d+)-typed/, 30);
    if (!seen.includes('42-typed')) throw new Error('expect returned ' + seen);
    await m.writeFile('/tmp/page-copy', await m.readFile('/srv/site/index.html'));
    await m.writeFile('/tmp/bytes', new Uint8Array([0, 1, 2, 255]), '600');
    if ((await m.readFile('/tmp/bytes')).join(',') !== '0,1,2,255') throw new Error('bytes changed on the way');
  },
};
`,
    );
    const env = { XDG_CONFIG_HOME: path.join(dir, 'cfg'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const first = await run([process.execPath, 'dist/cli.js', '--json', 'build', '-f', path.join(dir, 'recipe.ts'), '--name', 'st-ts1'], {
      env,
      timeoutMs: 300_000,
    });
    expect(first.code, first.stderr).toBe(0);
    // The probe is transient: everything before it is cached, it is not (the base may be cached by earlier tests).
    const one = JSON.parse(first.stdout) as BuildResult;
    expect(one.hits + one.ran).toBe(5);
    expect(one.ran).toBeGreaterThanOrEqual(4);
    const cat = await api.machines.exec('st-ts1', ['sh', '-c', 'cat /srv/site/sub/a.txt /tmp/page-copy; stat -c %a /tmp/bytes']);
    expect(cat.stdout).toBe('nestedfrom a directory\n600\n');
    const second = await run([process.execPath, 'dist/cli.js', '--json', 'build', '-f', path.join(dir, 'recipe.ts'), '--name', 'st-ts2'], {
      env,
      timeoutMs: 300_000,
    });
    expect(JSON.parse(second.stdout)).toMatchObject({ hits: 4, ran: 1 });
    // A probe that gets no answer fails the build with what it saw.
    const bad = await jobDone(api, await api.steps.build({ chain: 'busybox + probe http://127.0.0.1:9/ --timeout 2', name: 'st-ts3' }));
    expect(bad.error).toMatch(/Step 2 \(probe\) failed: sh exited with 1: last answer/);
    fs.writeFileSync(path.join(dir, 'broken.ts'), 'export default { base: "busybox", steps: [ { exec: [] } ] };\n');
    expect(await run([process.execPath, 'dist/cli.js', 'build', '-f', path.join(dir, 'broken.ts')], { env, timeoutMs: 30_000 })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('step 1: exec: argv'),
    });
    fs.writeFileSync(path.join(dir, 'syntax.ts'), 'export default { base: ;\n');
    expect(await run([process.execPath, 'dist/cli.js', 'build', '-f', path.join(dir, 'syntax.ts')], { env, timeoutMs: 30_000 })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/syntax\.ts: .*\(line 1, column \d+\)/),
    });
  }, 600_000);

  it('reboots a machine from a step and waits for it; hangar run CHAIN opens a shell in the result and removes it after', async () => {
    fs.writeFileSync(
      path.join(srv.dataDir, 'steps', 'reboot-check.ts'),
      `export default {
  name: 'reboot-check',
  version: 1,
  async run(m) {
    await m.exec(['sh', '-c', 'echo before > /tmp/before-reboot']);
    await m.reboot();
    const r = await m.exec(['sh', '-c', 'test -e /tmp/before-reboot && echo kept || echo gone']);
    await m.writeFile('/tmp/after-reboot', r.stdout.trim());
    await m.console.sendline('echo up-$((1+1))');
    await m.console.expect('up-2', 60);
  },
};
`,
    );
    const r = await build('busybox + reboot-check', 'st-rb');
    // busybox lives in an initramfs: a reboot starts it afresh.
    expect((await api.machines.exec('st-rb', ['cat', '/tmp/after-reboot'])).stdout).toBe('gone');
    const env = { XDG_CONFIG_HOME: testTempDir('hangar-cli-runchain-'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const shell = await run([process.execPath, 'dist/cli.js', 'run', 'busybox', '+', 'file', '/etc/motd', 'hello from run'], {
      env,
      input: 'cat /etc/motd; echo end-$((2+3))\n',
      timeoutMs: 300_000,
    });
    expect(shell.code, shell.stderr).toBe(0);
    expect(shell.stdout).toContain('hello from run');
    expect(shell.stdout).toContain('end-5');
    expect(shell.stderr).toMatch(/run-[0-9a-f]{8}: \d+ steps? from the cache/);
    expect((await api.machines.list()).items.filter((m) => m.name.startsWith('run-'))).toEqual([]);
    expect(r.keys.length).toBe(2);
  }, 600_000);

  it('runs user steps in a process of their own: a loop past its time limit, a late throw, memory eaten fail the build; the server serves', async () => {
    const dir = path.join(srv.dataDir, 'steps');
    fs.writeFileSync(path.join(dir, 'spin.ts'), `export default { name: 'spin', version: 1, timeoutS: 3, async run() { for (;;) {} } };\n`);
    fs.writeFileSync(
      path.join(dir, 'late-throw.ts'),
      `export default { name: 'late-throw', version: 1, async run(m) {
  await m.exec(['true']);
  setTimeout(() => { throw new Error('thrown from a timer'); }, 50);
  await new Promise(() => {});
} };\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'hog.ts'),
      `export default { name: 'hog', version: 1, memoryMib: 64, async run() {
  const keep: unknown[] = [];
  for (;;) keep.push(new Array(1e5).fill({ x: Math.random() }));
} };\n`,
    );
    const health = async () => {
      const t0 = performance.now();
      const r = await fetch(`${srv.url}/api/health`);
      return { status: r.status, ms: performance.now() - t0 };
    };
    const cases: [string, RegExp][] = [
      ['spin', /Step 2 \(spin\) failed: the step did not finish within its time limit of 3 s/],
      ['late-throw', /Step 2 \(late-throw\) failed: threw outside its run\(\) \(asynchronously\): thrown from a timer/],
      ['hog', /Step 2 \(hog\) failed: the step ran out of memory: its JavaScript heap reached its limit of 64 MiB/],
    ];
    for (const [step, why] of cases) {
      const job = await api.steps.build({ chain: `busybox + ${step}`, name: `st-${step}` });
      const during: { status: number; ms: number }[] = [];
      for (let j = await api.jobs.get(job.id); !j.finishedAt; j = await api.jobs.get(job.id)) {
        during.push(await health());
        await new Promise((r) => setTimeout(r, 100));
      }
      const done = await api.jobs.get(job.id);
      expect(done.state, step).toBe('failed');
      expect(done.error).toMatch(why);
      expect(during.length).toBeGreaterThan(2);
      expect(during.every((h) => h.status === 200)).toBe(true);
      console.log(`${step}: /api/health answered ${during.length} times while it ran, slowest ${Math.round(Math.max(...during.map((h) => h.ms)))} ms`);
    }
    expect((await health()).status).toBe(200);
    // No step process is left behind, and user steps still work.
    expect(stepProcesses().filter((p) => p.role === 'run')).toEqual([]);
    for (const f of ['spin.ts', 'late-throw.ts', 'hog.ts']) fs.rmSync(path.join(dir, f));
    expect((await build('busybox + greet world', 'st-after')).ran).toBeLessThanOrEqual(1);
  }, 300_000);

  it('loads user step modules outside the server: a top level that loops, throws (at once or later) or eats memory is listed with why', async () => {
    const dir = path.join(srv.dataDir, 'steps');
    const modules: Record<string, string> = {
      'top-spin.ts': 'for (;;) {}',
      'top-throw.ts': "throw new Error('thrown at import');",
      'top-late.ts': "setTimeout(() => { throw new Error('thrown at load'); }, 10);",
      // Buffers: outside the V8 heap, so the RSS watchdog is what stops it.
      'top-hog.ts': 'const keep: Buffer[] = [];\nfor (;;) keep.push(Buffer.alloc(32 * 2 ** 20, 1));',
    };
    for (const [f, top] of Object.entries(modules))
      fs.writeFileSync(path.join(dir, f), `${top}\nexport default { name: '${f.replace('.ts', '')}', version: 1, async run() {} };\n`);
    const health = async () => (await fetch(`${srv.url}/api/health`)).status;
    // The catalog waits for them to load (the one that loops, its 10 s); the server answers meanwhile.
    let settled = false;
    const listing = api.steps.catalog().finally(() => (settled = true));
    const during: number[] = [];
    while (!settled) {
      during.push(await health());
      await new Promise((r) => setTimeout(r, 100));
    }
    const catalog = (await listing).items;
    expect(during.length).toBeGreaterThan(10);
    expect(during.every((s) => s === 200)).toBe(true);
    const said = (f: string) => catalog.find((s) => s.name === f)?.description;
    expect(said('top-spin.ts')).toBe('does not load: it did not load within 10 s (its top level runs too long)');
    expect(said('top-throw.ts')).toBe('does not load: thrown at import');
    expect(said('top-late.ts')).toBe('does not load: its code threw asynchronously: thrown at load');
    expect(said('top-hog.ts')).toMatch(
      /^does not load: it used \d+ MiB of memory, over its limit of 256 MiB \(\+128 for Node; the limit for loading a module\)$/,
    );
    expect(catalog.find((s) => s.name === 'greet')).toMatchObject({ usage: 'greet WHO' });
    // Once per content: the next listing does not load them again.
    const t0 = performance.now();
    expect((await api.steps.catalog()).items.filter((s) => s.name.startsWith('top-')).map((s) => s.description)).toEqual(
      catalog.filter((s) => s.name.startsWith('top-')).map((s) => s.description),
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await health()).toBe(200);
    expect(stepProcesses().filter((p) => p.module.includes('/top-'))).toEqual([]);
    // A step of theirs is unknown; the other user steps are checked (in their module's process) and run.
    await expect(api.steps.build({ chain: 'busybox + top-spin' })).rejects.toMatchObject({ status: 400, message: 'Unknown step "top-spin".' });
    await expect(api.steps.build({ chain: 'busybox + greet World' })).rejects.toMatchObject({
      status: 400,
      message: 'greet: who: lowercase letters (usage: greet WHO)',
      issues: [{ path: 'steps.who' }],
    });
    expect((await build('busybox + greet world', 'st-after-load')).ran).toBe(0);
    for (const f of Object.keys(modules)) fs.rmSync(path.join(dir, f));
  }, 120_000);

  it('invalidates a node and its subtree, with their snapshots', async () => {
    const nodes = (await api.steps.nodes()).items;
    const file = nodes.find((n) => n.step === 'file' && n.args.content === 'hello again')!;
    const below = nodes.filter((n) => n.parentKey === file.key);
    expect(below.length).toBeGreaterThan(0);
    const r = await api.steps.invalidate(file.key);
    expect(r.removed).toBe(1 + below.length);
    const left = (await api.steps.nodes()).items.map((n) => n.key);
    expect(left).not.toContain(file.key);
    for (const n of below) expect(left).not.toContain(n.key);
  }, 60_000);

  it('keeps the cache within its budget: least recently used unreferenced steps go, steps machines run on stay', async () => {
    const lone = await build('busybox + exec -- sh -c "echo lonely > /tmp/lone"', 'st-h');
    await finished(await api.machines.destroy('st-h'));
    const before = (await api.steps.nodes()).items;
    expect(before.map((n) => n.key)).toContain(lone.keys[1]);
    await api.settings.update({ stepCacheBudgetMib: 1 });
    try {
      const r = await api.snapshots.gc();
      expect(r.removedSteps).toBeGreaterThanOrEqual(1);
      const after = (await api.steps.nodes()).items;
      expect(after.map((n) => n.key)).not.toContain(lone.keys[1]);
      // What is left is in use: a machine runs on its snapshot, or other cached steps are built on it.
      const snaps = new Map((await api.snapshots.list()).items.map((s) => [s.id, s]));
      for (const n of after) expect(!!snaps.get(n.snapshotId!)?.machines.length || after.some((c) => c.parentKey === n.key)).toBe(true);
      expect(after.length).toBeGreaterThan(0);
    } finally {
      await api.settings.update({ stepCacheBudgetMib: 20480 });
    }
  }, 300_000);
});
