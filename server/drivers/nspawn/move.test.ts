import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BootFiles, MachineSpec } from '../types';
import { nspawnMove } from './move';
import { natPlan } from './network';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-move-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const ID = 'mch_moveunit000000000';
/** A node's data dir: its machines and layers dirs, and the machine's spec there. */
function node(name: string, runtime: Record<string, unknown>): MachineSpec {
  const data = path.join(root, name);
  fs.mkdirSync(path.join(data, 'machines'), { recursive: true });
  fs.mkdirSync(path.join(data, 'layers'), { recursive: true });
  return {
    id: ID,
    name: 'ct-mv',
    dir: path.join(data, 'machines', ID),
    layers: path.join(data, 'layers'),
    cpus: 1,
    memoryMib: 128,
    diskGib: 1,
    ports: [],
    runtime,
  };
}
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};
const calls: string[] = [];
const move = nspawnMove({ pause: async () => void calls.push('pause'), resume: async () => void calls.push('resume') });

/** A sender's container on the NAT network: a snapshot's layer below, its upper dir, a volume and a console log. */
function sender(): MachineSpec {
  const lower = path.join(root, 'a', 'layers', `${ID}-snap.d`);
  const a = node('a', {
    rootfs: '/nowhere/images/bb/rootfs',
    lowers: [lower],
    network: 'nat',
    netIndex: 7,
    address: natPlan(ID, 7).guestAddr,
    cgroup: `${ID}-aaaaaaaa`,
    pid: 4242,
    nspawnPid: 4243,
  });
  write(path.join(lower, 'root/below'), 'in-the-snapshot');
  write(path.join(a.dir, 'upper/root/above'), 'in-its-upper');
  write(path.join(a.dir, 'volumes/data/kept'), 'volume-file');
  write(path.join(a.dir, 'console.log'), 'started-42\n');
  return a;
}

/** The plan's files as the receiving node has them: copied into its work dir (placing moves them). */
function arrived(files: { name: string; path: string }[]): Map<string, string> {
  const work = fs.mkdtempSync(path.join(root, 'work-'));
  return new Map(files.map((f) => [f.name, (fs.copyFileSync(f.path, path.join(work, f.name)), path.join(work, f.name))]));
}

describe('nspawn moves', () => {
  it('holds a running container with the freezer, and lets it go on when asked', async () => {
    calls.length = 0;
    const release = await move.hold!(sender());
    expect(calls).toEqual(['pause']);
    await release();
    expect(calls).toEqual(['pause', 'resume']);
  });

  it("packs its layers, upper dir, volumes and console log, and places them under new names with the receiving node's NAT lease", async () => {
    const a = sender();
    const out = fs.mkdtempSync(path.join(root, 'out-'));
    const plan = await move.plan(a, false, out);
    expect(plan.frozen.map((f) => f.name)).toEqual(['lower-0']);
    expect(plan.own.map((f) => f.name)).toEqual(['upper', 'volumes', 'console.log']);
    const b = node('b', a.runtime);
    const rootfs = path.join(root, 'b', 'images', 'bb', 'rootfs');
    fs.mkdirSync(rootfs, { recursive: true });
    const placed = await move.place(b, arrived([...plan.frozen, ...plan.own]), plan.meta, false, { image: 'bb', rootfs } as BootFiles);
    const rt = placed.runtime as { rootfs: string; lowers: string[]; netIndex: number; address: string; cgroup?: string; pid: null; serialFrom: number };
    expect(rt.rootfs).toBe(rootfs);
    expect(rt.lowers).toHaveLength(1);
    expect(path.basename(rt.lowers[0])).toMatch(new RegExp(`^${ID}-lower-0-[0-9a-f]{8}$`));
    expect(placed.made).toEqual(rt.lowers);
    expect(fs.readFileSync(path.join(rt.lowers[0], 'root/below'), 'utf8')).toBe('in-the-snapshot');
    expect(fs.readFileSync(path.join(b.dir, 'upper/root/above'), 'utf8')).toBe('in-its-upper');
    expect(fs.readFileSync(path.join(b.dir, 'volumes/data/kept'), 'utf8')).toBe('volume-file');
    expect(fs.readFileSync(path.join(b.dir, 'console.log'), 'utf8')).toBe('started-42\n');
    expect(rt.serialFrom).toBe('started-42\n'.length);
    // The sender's process and cgroup are not this node's (its cgroup is named by this node's tag); its subnet is leased here anew.
    expect(rt.cgroup).toMatch(new RegExp(`^${ID}-[0-9a-f]{8}$`));
    expect(rt.cgroup).not.toBe(`${ID}-aaaaaaaa`);
    expect(rt.pid).toBeNull();
    expect(rt.address).toBe(natPlan(ID, rt.netIndex).guestAddr);
    expect(fs.readFileSync(path.join(root, 'b', 'net', 'leases', String(rt.netIndex)), 'utf8')).toBe(ID);
  });

  it('a place that fails removes the layers it made and gives its lease back', async () => {
    const a = sender();
    const plan = await move.plan(a, false, fs.mkdtempSync(path.join(root, 'out-')));
    const c = node('c', a.runtime);
    const got = arrived(plan.frozen);
    await expect(move.place(c, got, plan.meta, false, { image: 'bb', rootfs: '/' } as BootFiles)).rejects.toThrow(/upper did not arrive/);
    expect(fs.readdirSync(c.layers)).toEqual([]);
    const leases = path.join(root, 'c', 'net', 'leases');
    expect(fs.existsSync(leases) ? fs.readdirSync(leases) : []).toEqual([]);
  });

  it("a container of an OCI image: its layers stay out of the plan and are placed from the receiving node's store, as create placed them", async () => {
    const storeA = (n: number) => path.join(root, 'a-store', `l${n}`);
    const storeB = (n: number) => path.join(root, 'b-store', `l${n}`);
    const shim = path.join(root, 'b-store', 'shim');
    for (const d of [storeA(0), storeA(1), storeB(0), storeB(1), shim]) fs.mkdirSync(d, { recursive: true });
    const oci = (layers: string[]) => ({ image: 'oci-0123456789ab', kind: 'oci', rootfs: shim, oci: { layers, config: {} } }) as unknown as BootFiles;
    for (const boot of [false, true]) {
      const name = boot ? 'oci-boot' : 'oci-app';
      const runtime = boot ? { rootfs: storeA(0), imageLayers: [storeA(1)], boot: true } : { rootfs: '/a/oci/shim', imageLayers: [storeA(0), storeA(1)] };
      const a = node(`${name}-a`, runtime);
      write(path.join(a.dir, 'upper/app/state'), 'kept');
      const plan = await move.plan(a, false, fs.mkdtempSync(path.join(root, 'out-')));
      expect(plan.frozen).toEqual([]);
      expect(plan.meta).toMatchObject({ root: false, lowers: 0 });
      const b = node(`${name}-b`, runtime);
      const placed = await move.place(b, arrived(plan.own), plan.meta, false, oci([storeB(0), storeB(1)]));
      const rt = placed.runtime as { rootfs: string; imageLayers: string[] };
      expect([rt.rootfs, rt.imageLayers]).toEqual(boot ? [storeB(0), [storeB(1)]] : [shim, [storeB(0), storeB(1)]]);
      expect(fs.readFileSync(path.join(b.dir, 'upper/app/state'), 'utf8')).toBe('kept');
      // Layers missing from the receiving node's store: refused, nothing placed.
      const c = node(`${name}-c`, runtime);
      await expect(move.place(c, arrived(plan.own), plan.meta, false, oci([path.join(root, 'gone')]))).rejects.toThrow(/not in this node's store/);
      expect(fs.readdirSync(c.layers)).toEqual([]);
    }
  });
});
