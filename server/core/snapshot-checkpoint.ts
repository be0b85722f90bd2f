import fs from 'node:fs';
import type { Machine } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { insertSnapshot, updateSnapshot, type SnapshotRow } from '@/db/repo/snapshots';
import { addChecksums } from './checksums';
import { newId } from './ids';
import type { JobContext } from './jobs';
import type { MachineDriver, MachineSpec } from '@/server/drivers/types';
import type { MachineService } from './machines';
import { resolveInside } from './paths';
import { checkpointQuiet } from './quiet-gate';

export interface CheckpointDeps {
  store: Store;
  machines: MachineService;
  dirs: { snapshots: string };
  now: () => number;
  /** Tell the listeners the tree changed. */
  changed(id: string): void;
}

/**
 * Checkpoint a machine as a new node of the tree, child of the one it runs on: its driver freezes
 * its layer (and saves memory and devices when it runs and can), into a temp dir renamed only
 * when complete; the machine goes on on its new layer whatever happens next.
 */
export async function takeCheckpoint(d: CheckpointDeps, machineId: string, label: string | undefined, ctx: JobContext): Promise<SnapshotRow> {
  const { row, spec } = await d.machines.spec(machineId);
  const driver = d.machines.driver(row.driver);
  const live = row.state === 'running' || row.state === 'paused';
  const id = newId('snp');
  const final = resolveInside(d.dirs.snapshots, id);
  const tmp = resolveInside(d.dirs.snapshots, `.${id}.tmp`);
  await insertSnapshot(d.store, {
    id,
    parentId: row.snapshotId,
    machineId,
    kind: live ? 'live' : 'disk',
    state: 'pending',
    sizeBytes: 0,
    pauseMs: null,
    path: final,
    createdAt: d.now(),
    label: label?.trim() || `${row.name} ${new Date(d.now()).toISOString().slice(0, 19).replace('T', ' ')}`,
    driver: row.driver,
    image: row.image,
    diskPath: '',
    // And what its driver needs to make machines from it again (containers: the layers they stand on).
    specJson: JSON.stringify({ cpus: row.cpus, memoryMib: row.memoryMib, diskGib: row.diskGib, ...driver.snapshotRecord(spec) }),
  });
  d.changed(id);
  ctx.progress(10, live ? 'Saving memory, devices and disk (guest paused)' : 'Freezing the disk layer');
  const done = await complete(d, { id, machineId, spec, tmp, final }, driver, ctx);
  if (done.resumeError) {
    // The snapshot is good; the machine is not running: say so where its state shows (`resume` may run it), and fail the job.
    const why = `did not run again after checkpoint ${id}: ${done.resumeError}`;
    await d.machines.patch(machineId, { state: 'paused', stateReason: why });
    throw new Error(`${row.name} ${why}`);
  }
  return done.row;
}

/** The driver's checkpoint into `tmp`, made the complete snapshot `id` at `final` (or marked failed, its files gone). */
async function complete(
  d: CheckpointDeps,
  { id, machineId, spec, tmp, final }: { id: string; machineId: string; spec: MachineSpec; tmp: string; final: string },
  driver: MachineDriver,
  ctx: JobContext,
): Promise<{ row: SnapshotRow; resumeError?: string }> {
  try {
    // Backup uploads wait while the guest is paused (see quiet-gate.ts).
    const release = checkpointQuiet.hold();
    const res = await driver.checkpoint(spec, tmp).finally(release);
    // The machine writes to its new layer from now on, whatever happens next.
    await d.machines.patch(machineId, { runtime: res.runtime ?? spec.runtime, snapshotId: id });
    if (res.liveError) ctx.log(`warning: live state not saved (${res.liveError}); the snapshot keeps the disk only`);
    // Out of the pause already. The device state is summed before the snapshot counts as
    // complete; the RAM file (hundreds of MB to read) just after, off the job.
    await addChecksums(tmp, driver.snapshotFiles.checked);
    fs.renameSync(tmp, final);
    const size = res.sizeBytes;
    const done = (await updateSnapshot(d.store, id, {
      state: 'complete',
      kind: res.live ? 'live' : 'disk',
      pauseMs: res.pauseMs,
      sizeBytes: size,
      diskPath: res.frozenDisk,
    }))!;
    if (res.live) sumLiveFiles(d.machines, done);
    ctx.log(res.live ? `live snapshot ${id}: guest paused ${res.pauseMs} ms, ${(size / 2 ** 20).toFixed(1)} MiB on disk` : `disk snapshot ${id}`);
    d.changed(id);
    return { row: done, resumeError: res.resumeError };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    await updateSnapshot(d.store, id, { state: 'failed' });
    d.changed(id);
    throw err;
  }
}

/** A live snapshot's files its driver sums after the fact (RAM files are large), in the background. */
export function sumLiveFiles(machines: Pick<MachineService, 'driver'>, snap: SnapshotRow): void {
  const files = machines.driver(snap.driver as Machine['driver']).snapshotFiles;
  addChecksums(snap.path, [...files.checked, ...files.bulk], true).catch(() => undefined); // a snapshot deleted meanwhile: nothing to sum
}
