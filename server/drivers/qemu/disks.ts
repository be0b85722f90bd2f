import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MachineDisk } from '@/lib/contracts/disks';
import { firstLine, run } from '../exec';
import { diskUsage } from '../shared/disk-usage';
import type { DiskAccess, DriverRuntime, MachineSpec, NewDisk, SnapshotSource } from '../types';
import { machineFiles } from './argv';
import { blockdevOf, deviceId, deviceOf, extrasOf, nodeName, SCSI_CONTROLLER, type ExtraDisk } from './disks-argv';
import { qcow2Overlay } from './overlay';
import { backingChain } from './qcow2';
import { Qmp } from './qmp';
import { pidOf } from './runtime';

/** A new writable layer for an extra disk, beside the root disk's (frozen ones outlive the machine, owned by snapshots). */
export const extraLayer = (m: { id: string; layers: string }, name: string) => path.join(m.layers, `${m.id}-d-${name}-${randomBytes(4).toString('hex')}.qcow2`);

const suffix = () => `n${randomBytes(3).toString('hex')}`;

async function withQmp<T>(m: MachineSpec, fn: (q: Qmp) => Promise<T>): Promise<T> {
  const q = await Qmp.connect(machineFiles(m.dir).qmpSock);
  try {
    return await fn(q);
  } finally {
    q.close();
  }
}

interface BlockInfo {
  device: string;
  qdev?: string;
  inserted?: { 'node-name'?: string; file?: string };
}

/** The node an attached extra disk's device reads now (a checkpoint puts a new one on top). */
export async function topNode(q: Qmp, name: string): Promise<string> {
  const blocks = await q.execute<BlockInfo[]>('query-block');
  const id = deviceId(name);
  const b = blocks.find((x) => x.qdev === id || x.qdev?.startsWith(`/machine/peripheral/${id}/`) || x.qdev === `/machine/peripheral/${id}`);
  const node = b?.inserted?.['node-name'];
  if (!node) throw new Error(`QEMU has no disk "${name}" attached`);
  return node;
}

/** Drop the block nodes left on a disk's files once its device is gone (each layer opened holds a write lock). */
async function dropNodes(q: Qmp, d: ExtraDisk): Promise<void> {
  const files = new Set(backingChain(d.file));
  for (let pass = 0; pass < 8; pass++) {
    const nodes = await q.execute<{ 'node-name': string; file: string; drv: string }[]>('query-named-block-nodes', { flat: true });
    const ours = nodes.filter((n) => files.has(path.resolve(n.file)) && n.drv === 'qcow2');
    if (ours.length === 0) return;
    let dropped = 0;
    for (const n of ours)
      dropped += await q.execute('blockdev-del', { 'node-name': n['node-name'] }).then(
        () => 1,
        () => 0,
      );
    if (dropped === 0) return;
  }
}

async function hotplug(q: Qmp, d: ExtraDisk, hasScsi: boolean): Promise<void> {
  if (d.bus === 'virtio-scsi' && !hasScsi) await q.execute('device_add', { ...SCSI_CONTROLLER });
  const node = nodeName(d, suffix());
  await q.execute('blockdev-add', blockdevOf(d, node));
  await q.execute('device_add', deviceOf(d, node)).catch(async (err: Error) => {
    await q.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
    throw err;
  });
}

/** The guest lets the device go (ACPI eject); QEMU's refusal or a guest that never lets go is the error. */
async function unplug(q: Qmp, d: ExtraDisk): Promise<void> {
  const id = deviceId(d.name);
  // A paused guest cannot answer the eject request: QEMU would keep it pending and the disk would go at some later resume.
  if (!(await q.execute<{ running: boolean }>('query-status')).running)
    throw new Error(`the guest is paused: it cannot release disk "${d.name}"; resume it first`);
  const gone = await q.execute('device_del', { id }).then(
    () => false,
    // A guest that released it after an earlier timeout: the device is gone already.
    (err: Error) => {
      if (/not found/i.test(err.message)) return true;
      throw err;
    },
  );
  if (gone) return dropNodes(q, d);
  await q
    .waitEvent((e) => e.event === 'DEVICE_DELETED' && (e.data as { device?: string } | undefined)?.device === id, 15_000)
    .catch(() => {
      throw new Error(`the guest did not release disk "${d.name}" within 15 s (is it in use?)`);
    });
  await dropNodes(q, d);
}

const find = (disks: ExtraDisk[], name: string): ExtraDisk => {
  const d = disks.find((x) => x.name === name);
  if (!d) throw new Error(`no disk "${name}"`);
  return d;
};

/** QEMU's extra disks: qcow2 files, hot-plugged through QMP while the machine runs. */
export const qemuDisks: DiskAccess = {
  list(m) {
    return extrasOf(m.runtime).disks.map((d): MachineDisk => ({
      name: d.name,
      kind: 'disk',
      sizeGib: d.sizeGib,
      bus: d.bus,
      guestPath: null,
      attached: d.attached,
      usedBytes: diskUsage(d.file),
    }));
  },

  async add(m, nd: NewDisk) {
    const { disks } = extrasOf(m.runtime);
    const used = new Set(disks.map((d) => d.slot));
    const slot = [...Array(15).keys()].find((s) => !used.has(s));
    if (slot === undefined) throw new Error('a machine has at most 15 extra disks');
    fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
    const d: ExtraDisk = { name: nd.name, file: extraLayer(m, nd.name), sizeGib: nd.sizeGib ?? 1, bus: nd.bus, attached: false, slot };
    const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', d.file, `${d.sizeGib}G`], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
    const added = { ...m.runtime, disks: [...disks, d] };
    if (!nd.attach) return added;
    try {
      return await this.setAttached({ ...m, runtime: added }, d.name, true);
    } catch (err) {
      fs.rmSync(d.file, { force: true });
      throw err;
    }
  },

  async setAttached(m, name, attached) {
    const { disks, scsi } = extrasOf(m.runtime);
    const d = find(disks, name);
    let controller = scsi;
    if (pidOf(m) !== null && d.attached !== attached) {
      await withQmp(m, (q) => (attached ? hotplug(q, d, scsi) : unplug(q, d)));
      if (attached && d.bus === 'virtio-scsi') controller = true;
    }
    return { ...m.runtime, scsi: controller, disks: disks.map((x) => (x.name === name ? { ...x, attached } : x)) };
  },

  async resize(m, name, sizeGib) {
    const { disks } = extrasOf(m.runtime);
    const d = find(disks, name);
    if (pidOf(m) !== null && d.attached) {
      await withQmp(m, async (q) => q.execute('block_resize', { 'node-name': await topNode(q, name), size: sizeGib * 2 ** 30 }));
    } else {
      const r = await run(['qemu-img', 'resize', '-q', '-f', 'qcow2', d.file, `${sizeGib}G`], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`qemu-img resize failed: ${firstLine(r.stderr)}`);
    }
    return { ...m.runtime, disks: disks.map((x) => (x.name === name ? { ...x, sizeGib } : x)) };
  },

  async remove(m, name) {
    const { disks } = extrasOf(m.runtime);
    const d = find(disks, name);
    // Its writable layer only: layers below it are frozen, owned by snapshots.
    if (d.file.startsWith(path.resolve(m.layers) + path.sep)) fs.rmSync(d.file, { force: true });
    return { ...m.runtime, disks: disks.filter((x) => x.name !== name) };
  },
};

/** Every extra disk gets a new empty layer on its current one (made beforehand: `-u`, the backing file is only named). */
export async function newExtraLayers(m: MachineSpec): Promise<{ disks: ExtraDisk[]; next: ExtraDisk[] }> {
  const { disks } = extrasOf(m.runtime);
  const next = disks.map((d) => ({ ...d, file: extraLayer(m, d.name) }));
  await Promise.all(disks.map((d, i) => qcow2Overlay(d.file, next[i].file, d.sizeGib, true)));
  return { disks, next };
}

/** In a live checkpoint's pause: each attached extra disk's device writes to its new layer from now on. */
export async function switchExtraDisks(q: Qmp, disks: ExtraDisk[], next: ExtraDisk[]): Promise<void> {
  for (const [i, d] of disks.entries()) {
    if (!d.attached) continue;
    const node = await topNode(q, d.name);
    await q.execute('blockdev-snapshot-sync', {
      'node-name': node,
      'snapshot-file': next[i].file,
      'snapshot-node-name': nodeName(d, suffix()),
      format: 'qcow2',
      mode: 'existing',
    });
  }
}

/** Forks and restores: a new layer of their own on each of the snapshot's frozen extra disks. */
export async function branchExtraDisks(snap: SnapshotSource, target: { id: string; layers: string }): Promise<DriverRuntime> {
  const { disks, scsi } = extrasOf(snap.record);
  const next = disks.map((d) => ({ ...d, file: extraLayer(target, d.name) }));
  await Promise.all(disks.map((d, i) => qcow2Overlay(d.file, next[i].file, d.sizeGib)));
  return { disks: next, scsi };
}

/** The machine's own writable extra layers (destroy, and the layers a restore replaced). */
export function discardExtraDisks(m: MachineSpec): void {
  for (const d of extrasOf(m.runtime).disks) if (d.file.startsWith(path.resolve(m.layers) + path.sep)) fs.rmSync(d.file, { force: true });
}

export const extraChains = (runtime: DriverRuntime): string[] => extrasOf(runtime).disks.flatMap((d) => backingChain(d.file));
