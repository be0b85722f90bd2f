import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildResult } from '@/lib/contracts/steps';
import { fakeCore, type FakeCore } from './testing/fake-core';

let t: FakeCore;
beforeEach(async () => {
  t = await fakeCore();
});
afterEach(async () => {
  await t.close();
});

const build = async (chain: string, name: string) => (await t.done(await t.core.steps.build(t.admin, { chain, name }))).result as BuildResult;

describe('StepService on the fake driver', () => {
  it('a cold chain boots its base, runs each step through the driver and checkpoints every result as a node of the tree', async () => {
    const r = await build('busybox + exec -- echo hi', 'cold');
    expect(r).toMatchObject({ machine: 'cold', hits: 0, ran: 2 });
    const fake = t.drivers.fake('qemu');
    expect(fake.callsOf('create')).toHaveLength(1);
    expect(fake.callsOf('exec').map((c) => c.args)).toContainEqual(['echo', 'hi']);
    expect(fake.callsOf('checkpoint')).toHaveLength(2);
    const tree = await t.core.steps.tree();
    expect(tree.map((n) => [n.step, n.driver, !!n.snapshotId])).toEqual([
      ['os.busybox', 'qemu', true],
      ['exec', 'qemu', true],
    ]);
    expect(tree[1].parentKey).toBe(tree[0].key);
  });

  it('the same chain again is a cache hit: a fork of the deepest cached snapshot, nothing booted or run', async () => {
    await build('busybox + exec -- echo hi', 'first');
    const fake = t.drivers.fake('qemu');
    fake.calls.length = 0;
    const r = await build('busybox + exec -- echo hi', 'second');
    expect(r).toMatchObject({ machine: 'second', hits: 2, ran: 0 });
    expect(fake.calls.map((c) => c.method)).not.toContain('create');
    expect(fake.callsOf('exec')).toEqual([]);
    expect(fake.callsOf('branch')[0].args).toMatchObject({ mode: 'fork' });
    expect((await t.core.machines.get(t.admin, 'second')).state).toBe('running');
  });

  it('a Debian base goes on the network its driver offers: NAT for a container, none to choose for a VM', async () => {
    await build('debian-12', 'ct');
    expect(t.drivers.fake('nspawn').callsOf('create')[0].args).toMatchObject({ runtime: { network: 'nat' } });
    await build('debian-12 --driver qemu', 'vm');
    expect(t.drivers.fake('qemu').callsOf('create')[0].args).toMatchObject({ runtime: { network: 'private' } });
  });

  it('a debian-13 chain starts on the debian-13 image, and its keys are its own: debian-12 + the same steps is no hit', async () => {
    await t.done(await t.core.images.build(t.admin, { kind: 'debian-13' }));
    const d13 = await build('debian-13 + exec -- echo hi', 'd13');
    expect(d13).toMatchObject({ hits: 0, ran: 2 });
    const fake = t.drivers.fake('nspawn');
    expect(fake.callsOf('create')[0].args).toMatchObject({ image: 'debian-13' });
    expect(await build('debian-12 + exec -- echo hi', 'd12')).toMatchObject({ hits: 0, ran: 2 });
    expect(fake.callsOf('create')[1].args).toMatchObject({ image: 'debian-12' });
    expect(await build('debian-13 + exec -- echo hi', 'd13-again')).toMatchObject({ hits: 2, ran: 0, keys: d13.keys });
    const bases = (await t.core.steps.tree()).filter((n) => n.step === 'os.debian');
    expect(bases.map((n) => [n.image, n.args.image]).sort()).toEqual([
      ['debian-12', undefined],
      ['debian-13', 'debian-13'],
    ]);
  });

  it('a failing step fails the build with its output, and its result is not cached', async () => {
    const fake = t.drivers.fake('qemu');
    fake.execAnswer = (argv) =>
      argv[0] === 'false' ? { code: 1, stdout: '', stderr: 'nope', durationMs: 1 } : { code: 0, stdout: '', stderr: '', durationMs: 1 };
    await expect(t.done(await t.core.steps.build(t.admin, { chain: 'busybox + exec -- false', name: 'bad' }))).rejects.toThrow(
      /Step 2 \(exec\) failed: false exited with 1: nope/,
    );
    expect((await t.core.steps.tree()).map((n) => n.step)).toEqual(['os.busybox']);
  });
});
