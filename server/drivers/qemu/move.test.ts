import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../exec';
import type { MachineDriver, MachineSpec, MovePlan } from '../types';
import { extrasOf } from './disks-argv';
import { qemuMove } from './move';
import { backingChain } from './qcow2';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-qmove-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('QEMU moves', () => {
  it("send a running guest's console log as it was when listed: the guest writing on meanwhile changes nothing sent", async () => {
    const dir = path.join(root, 'machines', 'mch_qmoveunit00000000');
    fs.mkdirSync(dir, { recursive: true });
    const disk = path.join(root, 'disk.raw');
    fs.writeFileSync(disk, Buffer.alloc(4096));
    fs.writeFileSync(path.join(dir, 'serial.log'), 'booted\n');
    fs.writeFileSync(path.join(dir, 'id_ed25519'), 'key');
    const tmp = fs.mkdtempSync(path.join(root, 'out-'));
    const spec = { id: 'mch_qmoveunit00000000', name: 'vm', dir, layers: root, cpus: 1, memoryMib: 128, diskGib: 1, ports: [], runtime: { disk } };
    const plan = await qemuMove({} as MachineDriver).plan(spec, true, tmp);
    const log = plan.own.find((f) => f.name === 'dir-serial.log')!;
    expect(path.dirname(log.path)).toBe(tmp);
    fs.appendFileSync(path.join(dir, 'serial.log'), 'more output while the move runs\n');
    expect(fs.readFileSync(log.path, 'utf8')).toBe('booted\n');
    // The key does not change: sent from where it is. A live move sends no writable layer (the mirror does).
    expect(plan.own.find((f) => f.name === 'dir-id_ed25519')!.path).toBe(path.join(dir, 'id_ed25519'));
    expect(plan.own.some((f) => f.name === 'top')).toBe(false);
  });

  it('carry extra disks: each chain below its top copied and re-pointed; live, an attached one gets a fresh top, a detached one goes whole', async () => {
    const at = fs.mkdtempSync(path.join(root, 'disks-'));
    const layers = path.join(at, 'layers');
    fs.mkdirSync(layers);
    const img = async (...argv: string[]) => expect((await run(['qemu-img', ...argv], { timeoutMs: 30_000 })).code).toBe(0);
    const f = (n: string) => path.join(layers, n);
    await img('create', '-q', '-f', 'raw', f('base.raw'), '64M');
    await img('create', '-q', '-f', 'qcow2', '-b', f('base.raw'), '-F', 'raw', f('root-top.qcow2'));
    await img('create', '-q', '-f', 'qcow2', f('data-0.qcow2'), '1G');
    await img('create', '-q', '-f', 'qcow2', '-b', f('data-0.qcow2'), '-F', 'qcow2', f('data-1.qcow2'));
    await img('create', '-q', '-f', 'qcow2', f('old.qcow2'), '2G');
    const disks = [
      { name: 'data', file: f('data-1.qcow2'), sizeGib: 1, bus: 'virtio-blk', attached: true, slot: 0 },
      { name: 'old', file: f('old.qcow2'), sizeGib: 2, bus: 'virtio-scsi', attached: false, slot: 1 },
    ];
    const id = 'mch_qmovedisks0000000';
    const spec = (dir: string, lay: string): MachineSpec => ({
      id,
      name: 'vm',
      dir,
      layers: lay,
      cpus: 1,
      memoryMib: 128,
      diskGib: 1,
      ports: [],
      runtime: { disk: f('root-top.qcow2'), disks },
    });
    const move = qemuMove({} as MachineDriver);
    /** What the other node receives: a copy of each file, under a name of its own. */
    const arrive = (plan: MovePlan, into: string) => {
      fs.mkdirSync(into, { recursive: true });
      return new Map([...plan.frozen, ...plan.own].map((x) => [x.name, (fs.copyFileSync(x.path, path.join(into, x.name)), path.join(into, x.name))]));
    };

    const live = await move.plan(spec(path.join(at, 'a'), layers), true, at);
    expect(live.frozen.map((x) => x.name)).toEqual(['layer-0', 'disk0-layer-0', 'disk1-top']);
    expect(live.own.filter((x) => !x.name.startsWith('dir-'))).toEqual([]);
    expect(live.meta.disks).toEqual([
      { layers: 1, bytes: 2 ** 30 },
      { layers: 0, bytes: 2 * 2 ** 30 },
    ]);
    const onB = path.join(at, 'b-layers');
    const placed = await move.place(spec(path.join(at, 'b'), onB), arrive(live, path.join(at, 'in-live')), live.meta, true, null);
    const got = extrasOf(placed.runtime).disks;
    expect(got.map((d) => [d.name, d.attached, d.slot])).toEqual([
      ['data', true, 0],
      ['old', false, 1],
    ]);
    // The attached disk: a new empty top over the copy of its lower layer (the mirror fills it); the detached one: its copy.
    const dataChain = backingChain(got[0].file);
    expect(dataChain.length).toBe(2);
    expect(dataChain.every((x) => x.startsWith(onB + path.sep) && path.basename(x).startsWith(`${id}-d-data-`))).toBe(true);
    expect(path.basename(got[1].file)).toMatch(new RegExp(`^${id}-d-old-top-[0-9a-f]{8}\\.qcow2$`));
    expect(backingChain(String(placed.runtime.disk)).map((x) => path.dirname(x))).toEqual([onB, onB]);

    // Stopped: every writable layer goes too, and a description that does not match the record is refused, leaving nothing.
    const stopped = await move.plan(spec(path.join(at, 'a'), layers), false, at);
    expect(stopped.own.map((x) => x.name).filter((n) => !n.startsWith('dir-'))).toEqual(['top', 'disk0-top', 'disk1-top']);
    const onC = path.join(at, 'c-layers');
    await expect(
      move.place(spec(path.join(at, 'c'), onC), arrive(stopped, path.join(at, 'in-bad')), { ...stopped.meta, disks: [] }, false, null),
    ).rejects.toThrow(/extra disks/);
    expect(fs.readdirSync(onC)).toEqual([]);
    const back = await move.place(spec(path.join(at, 'c'), onC), arrive(stopped, path.join(at, 'in-stopped')), stopped.meta, false, null);
    const backDisks = extrasOf(back.runtime).disks;
    expect(backingChain(backDisks[0].file).length).toBe(2);
    expect(path.basename(backDisks[0].file)).toMatch(/-d-data-top-/);
    expect(back.made.length).toBe(5);
    // A record naming a disk as no disk can be named (a path, from a node gone wrong) is refused; nothing is left.
    const bad = {
      ...spec(path.join(at, 'd'), path.join(at, 'd-layers')),
      runtime: { disk: f('root-top.qcow2'), disks: [{ ...disks[0], name: '../../x' }, disks[1]] },
    };
    await expect(move.place(bad, arrive(stopped, path.join(at, 'in-name')), stopped.meta, false, null)).rejects.toThrow(/a name no disk can have/);
    expect(fs.readdirSync(path.join(at, 'd-layers'))).toEqual([]);
  });

  it("carry a disk image machine's seed and a UEFI machine's variables (a running guest's as of the listing), its drive pointed at the seed here", async () => {
    const at = fs.mkdtempSync(path.join(root, 'own-'));
    const dir = path.join(at, 'a');
    fs.mkdirSync(dir);
    const disk = path.join(at, 'top.qcow2');
    expect((await run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M'], { timeoutMs: 30_000 })).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'seed.iso'), 'seed');
    fs.writeFileSync(path.join(dir, 'OVMF_VARS.fd'), 'vars-0');
    const runtime = { disk, ownKernel: true, seed: path.join(dir, 'seed.iso'), firmware: 'uefi' };
    const spec = (d: string, lay: string): MachineSpec => ({
      id: 'mch_qmoveown00000000',
      name: 'vm',
      dir: d,
      layers: lay,
      cpus: 1,
      memoryMib: 128,
      diskGib: 1,
      ports: [],
      runtime,
    });
    const move = qemuMove({} as MachineDriver);
    const plan = await move.plan(spec(dir, at), true, at);
    expect(plan.own.find((x) => x.name === 'dir-seed.iso')!.path).toBe(path.join(dir, 'seed.iso'));
    const vars = plan.own.find((x) => x.name === 'dir-OVMF_VARS.fd')!;
    fs.writeFileSync(path.join(dir, 'OVMF_VARS.fd'), 'vars-1: the guest wrote a boot entry');
    expect(fs.readFileSync(vars.path, 'utf8')).toBe('vars-0');
    const into = path.join(at, 'in');
    fs.mkdirSync(into);
    const got = new Map([...plan.frozen, ...plan.own].map((x) => [x.name, (fs.copyFileSync(x.path, path.join(into, x.name)), path.join(into, x.name))]));
    const b = path.join(at, 'b');
    const placed = await move.place(spec(b, path.join(at, 'b-layers')), got, plan.meta, true, null);
    expect(placed.runtime).toMatchObject({ ownKernel: true, firmware: 'uefi', seed: path.join(b, 'seed.iso') });
    expect(fs.readFileSync(path.join(b, 'seed.iso'), 'utf8')).toBe('seed');
    expect(fs.readFileSync(path.join(b, 'OVMF_VARS.fd'), 'utf8')).toBe('vars-0');
    // No layer below its writable one (a standalone disk): the live move's fresh top stands alone, as big as the disk.
    expect(backingChain(String(placed.runtime.disk))).toEqual([String(placed.runtime.disk)]);
  });
});
