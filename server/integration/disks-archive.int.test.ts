import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { jobDone, serverWithBusybox, tearDown, until, type RunningServer } from './harness';

/**
 * A busybox VM (TCG) with two extra disks, known bytes written to each from inside the guest:
 * its live snapshot exported and imported (each disk a checked member of the archive), and
 * backed up to a directory and restored, gives machines that read both disks' bytes back. A
 * deleted snapshot takes its frozen extra layers with it, never while something builds on them.
 */
let srv: RunningServer;
let api: ApiClient;
let work: string;
const VM = 'xa-src';
let snap = '';
/** The extra disks' files the VM's devices wrote to before the checkpoint: the snapshot's frozen layers. */
let frozen: string[] = [];
let importedId = '';

beforeAll(async () => {
  ({ srv, api } = await serverWithBusybox());
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-xa-'));
  expect((await jobDone(api, await api.machines.create({ name: VM, image: 'busybox', memoryMib: 128 }), 180_000)).error).toBeNull();
}, 400_000);

afterAll(async () => {
  await tearDown(srv, api);
  fs.rmSync(work, { recursive: true, force: true });
}, 120_000);

const finished = async (job: { id: string; title: string }) => {
  const j = await jobDone(api, job, 240_000);
  expect(j.error).toBeNull();
  return j;
};
const sh = async (machine: string, script: string) => {
  const r = await api.machines.exec(machine, ['sh', '-c', script], 30);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};
/** The block device whose serial is the disk's name, read from its first byte. */
const readDisk = (machine: string, name: string, n: number) =>
  sh(machine, `for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = ${name} ] && dd if=/dev/\${d##*/} bs=${n} count=1 2>/dev/null; done; true`);
const writeDisk = (machine: string, name: string, text: string) =>
  sh(
    machine,
    `for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = ${name} ] && echo ${text} | dd of=/dev/\${d##*/} conv=fsync 2>/dev/null; done; true`,
  );
const BYTES = { one: 'disk-one-bytes', two: 'disk-two-bytes' };

/** The files QEMU's extra disk devices read now. */
async function extraFiles(machine: string): Promise<string[]> {
  const q = await Qmp.connect(`${srv.dataDir}/machines/${(await api.machines.get(machine)).id}/qmp.sock`);
  try {
    const blocks = await q.execute<{ qdev?: string; inserted?: { file: string } }[]>('query-block');
    return blocks.filter((b) => b.qdev?.includes('disk-')).map((b) => b.inserted?.file ?? '');
  } finally {
    q.close();
  }
}

describe('extra disks in archives, backups and snapshot deletes', () => {
  it('a live checkpoint of a VM with two disks, known bytes on each', async () => {
    await api.machines.disks.add(VM, { name: 'one', sizeGib: 1 });
    await api.machines.disks.add(VM, { name: 'two', sizeGib: 2 });
    await until(async () => (await readDisk(VM, 'two', 1)) !== '', 'both disks in the guest', 30_000);
    await writeDisk(VM, 'one', BYTES.one);
    await writeDisk(VM, 'two', BYTES.two);
    expect(await readDisk(VM, 'one', 14)).toBe(BYTES.one);
    frozen = await extraFiles(VM);
    expect(frozen).toHaveLength(2);
    snap = ((await finished(await api.snapshots.checkpoint(VM, 'two-disks'))).result as { snapshot: string }).snapshot;
    // Later writes are not in the snapshot.
    await writeDisk(VM, 'one', 'later-bytes!!!');
  }, 120_000);

  it('exports both disks as checked members; the import forks into a machine that reads their bytes', async () => {
    const file = path.join(work, 'vm.hangar.tar');
    fs.writeFileSync(file, Buffer.from(await (await api.snapshots.exportArchive(snap)).arrayBuffer()));
    const members = (await run(['tar', '-tf', file])).stdout.trim().split('\n').sort();
    expect(members).toEqual(expect.arrayContaining(['SHA256SUMS', 'manifest.json', 'disk.qcow2', 'disk-0.qcow2', 'disk-1.qcow2', 'state']));
    const sums = (await run(['tar', '-xOf', file, 'SHA256SUMS'])).stdout;
    for (const m of ['disk-0.qcow2', 'disk-1.qcow2']) expect(sums).toMatch(new RegExp(`^[0-9a-f]{64} {2}${m.replace('.', '\\.')}$`, 'm'));

    const imported = await api.snapshots.importArchive(new Uint8Array(fs.readFileSync(file)));
    importedId = imported.id;
    await finished(await api.snapshots.fork(imported.id, { count: 1, names: ['xa-imp'] }));
    expect((await api.machines.disks.list('xa-imp')).items.map((d) => [d.name, d.sizeGib, d.attached])).toEqual([
      ['one', 1, true],
      ['two', 2, true],
    ]);
    expect(await readDisk('xa-imp', 'one', 14)).toBe(BYTES.one);
    expect(await readDisk('xa-imp', 'two', 14)).toBe(BYTES.two);
    // The fork's disks stand on the import's own layers in this data dir, not on the source's.
    for (const f of await extraFiles('xa-imp')) {
      const chain = (await run(['qemu-img', 'info', '-U', '--backing-chain', '--output=json', f])).stdout;
      expect(chain).toContain(`${imported.id}-imported-disk-`);
      for (const src of frozen) expect(chain).not.toContain(src);
    }

    // A damaged extra disk or one the manifest does not name: refused, nothing imported.
    const bad = path.join(work, 'bad');
    fs.mkdirSync(bad);
    await run(['tar', '-C', bad, '-xf', file]);
    fs.appendFileSync(path.join(bad, 'disk-1.qcow2'), 'x');
    const pack = async () => {
      await run(['tar', '-C', bad, '-cf', path.join(work, 'bad.tar'), ...fs.readdirSync(bad)]);
      return new Uint8Array(fs.readFileSync(path.join(work, 'bad.tar')));
    };
    await expect(api.snapshots.importArchive(await pack())).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/disk-1\.qcow2/) });
    fs.rmSync(path.join(bad, 'disk-1.qcow2'));
    await expect(api.snapshots.importArchive(await pack())).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/disk-1\.qcow2 is missing/) });
    fs.copyFileSync(path.join(bad, 'disk-0.qcow2'), path.join(bad, 'disk-7.qcow2'));
    fs.copyFileSync(path.join(bad, 'disk-0.qcow2'), path.join(bad, 'disk-1.qcow2'));
    await expect(api.snapshots.importArchive(await pack())).rejects.toMatchObject({ status: 400 });
  }, 400_000);

  it('backs up both disks to a directory and restores them into a machine that reads their bytes', async () => {
    const dir = path.join(work, 'target');
    fs.mkdirSync(dir);
    await api.backups.addTarget({ kind: 'dir', name: 'xa-dir', path: dir });
    const r = (await finished(await api.backups.create(snap, 'xa-dir'))).result as { backup: string };
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'backups', `${r.backup}.json`), 'utf8')) as {
      disks: { member: string; layers: { sha256: string }[] }[];
    };
    expect(manifest.disks.map((d) => d.member)).toEqual(['disk-0.qcow2', 'disk-1.qcow2']);
    for (const d of manifest.disks) for (const l of d.layers) expect(fs.existsSync(path.join(dir, 'layers', l.sha256))).toBe(true);

    await finished(await api.backups.restore('xa-dir', r.backup, 'xa-back'));
    expect((await api.machines.disks.list('xa-back')).items.map((d) => d.name)).toEqual(['one', 'two']);
    expect(await readDisk('xa-back', 'one', 14)).toBe(BYTES.one);
    expect(await readDisk('xa-back', 'two', 14)).toBe(BYTES.two);

    // A layer damaged on the target: its checksum fails the restore, and no machine comes of it.
    const layer = path.join(dir, 'layers', manifest.disks[1].layers.at(-1)!.sha256);
    const gz = fs.readFileSync(layer);
    fs.writeFileSync(layer, Buffer.concat([gz.subarray(0, gz.length - 12), Buffer.alloc(12)]));
    const failed = await jobDone(api, await api.backups.restore('xa-dir', r.backup, 'xa-broken'), 240_000);
    expect(failed.error).not.toBeNull();
    await expect(api.machines.get('xa-broken')).rejects.toMatchObject({ status: 404 });
  }, 400_000);

  it('deleting a snapshot removes its frozen extra layers, never while a machine stands on them', async () => {
    // The source runs on the snapshot's layers: refused, and they stay.
    await expect(api.snapshots.remove(snap)).rejects.toMatchObject({ status: 409 });
    for (const f of frozen) expect(fs.existsSync(f)).toBe(true);
    // A second checkpoint, then the source goes back to the first: the second is a leaf nothing stands on.
    const second = await extraFiles(VM);
    const c2 = ((await finished(await api.snapshots.checkpoint(VM, 'second'))).result as { snapshot: string }).snapshot;
    await finished(await api.snapshots.restore(snap, { machine: VM, checkpointFirst: false }));
    expect(await readDisk(VM, 'one', 14)).toBe(BYTES.one);
    await api.snapshots.remove(c2);
    for (const f of second) expect(fs.existsSync(f), f).toBe(false);
    for (const f of frozen) expect(fs.existsSync(f), f).toBe(true);

    // The imported snapshot: its fork stands on its layers; once the fork is gone, they go with it.
    const layers = () => fs.readdirSync(path.join(srv.dataDir, 'layers')).filter((e) => e.startsWith(`${importedId}-imported-disk-`));
    expect(layers()).toHaveLength(2);
    await expect(api.snapshots.remove(importedId)).rejects.toMatchObject({ status: 409 });
    await finished(await api.machines.destroy('xa-imp'));
    await api.snapshots.remove(importedId);
    expect(layers()).toEqual([]);
  }, 400_000);
});
