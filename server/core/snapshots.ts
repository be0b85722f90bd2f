import fs from 'node:fs';
import path from 'node:path';
import type { Job } from '@/lib/contracts/jobs';
import type { Machine } from '@/lib/contracts/machines';
import type { ForkBody, RestoreBody, Snapshot } from '@/lib/contracts/snapshots';
import type { Store } from '@/db/client';
import { getMachineRow, insertMachine, listMachines } from '@/db/repo/machines';
import {
  getSnapshotRow,
  insertSnapshot,
  listSnapshotRows,
  listSnapshotRowsInState,
  snapshotRowsLabelled,
  specOf,
  toSnapshot,
  updateSnapshot,
  type SnapshotRow,
} from '@/db/repo/snapshots';
import { isValidId } from '@/lib/contracts/common';
import { randomMac } from '@/server/drivers/qemu/driver';
import { copySshIdentity, snapshotFiles } from '@/server/drivers/qemu/snapshot';
import { driverFor } from '@/server/drivers/registry';
import type { Principal } from './auth';
import type { EventBus } from './events';
import { ConflictError, NotFoundError } from './errors';
import { newId } from './ids';
import type { JobContext, JobRunner } from './jobs';
import type { MachineService } from './machines';
import { diskUsage, resolveInside } from './paths';
import { addChecksums, verifyChecksums } from './checksums';
import { collectGarbage, deleteSnapshotTree, type GcResult } from './snapshot-gc';
import { exportToFile, importFromFile } from './snapshot-archive';

/** Checkpoint, restore, fork and the snapshot tree. Files go to a temp dir, renamed only when complete. */
export class SnapshotService {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly machines: MachineService,
    private readonly dirs: { root: string; snapshots: string; layers: string; machines: string },
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<Snapshot[]> {
    const [rows, ms] = await Promise.all([listSnapshotRows(this.store), listMachines(this.store)]);
    return rows.map((r) => this.view(r, ms));
  }

  /**
   * The one way a snapshot is named, by every verb (API and CLI): its id, or its label when
   * exactly one snapshot has it. An id wins over a label that looks like one; a label several
   * snapshots share is a 409 listing them (id, label, machine, created), so the caller can pick.
   */
  async resolve(ref: string): Promise<SnapshotRow> {
    const byId = isValidId(ref) ? await getSnapshotRow(this.store, ref) : undefined;
    if (byId) return byId;
    const labelled = await snapshotRowsLabelled(this.store, ref);
    if (labelled.length === 1) return labelled[0];
    if (labelled.length === 0) throw new NotFoundError(`Snapshot "${ref}" (no snapshot has this id or label)`);
    const ms = await listMachines(this.store);
    throw new ConflictError(
      `${labelled.length} snapshots are labelled "${ref}": name one by its id.`,
      labelled.map((r) => ({
        path: r.id,
        message:
          `label "${r.label}", machine ${ms.find((m) => m.id === r.machineId)?.name ?? '(gone)'}, ` +
          `created ${new Date(r.createdAt).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
      })),
    );
  }

  async get(ref: string): Promise<Snapshot> {
    const [row, ms] = await Promise.all([this.resolve(ref), listMachines(this.store)]);
    return this.view(row, ms);
  }

  private view(r: SnapshotRow, ms: Machine[]): Snapshot {
    const source = ms.find((m) => m.id === r.machineId);
    return toSnapshot(
      r,
      source?.name ?? null,
      ms.filter((m) => m.snapshotId === r.id).map((m) => ({ id: m.id, name: m.name })),
    );
  }

  /** Start-up: a checkpoint cut off by a stop never looks complete; its machine is resumed, its files removed. */
  async recover(): Promise<void> {
    fs.mkdirSync(this.dirs.snapshots, { recursive: true, mode: 0o700 });
    for (const row of await listSnapshotRowsInState(this.store, 'pending')) {
      await updateSnapshot(this.store, row.id, { state: 'failed', label: `${row.label} (interrupted)` });
      if (row.machineId) await this.machines.recoverInterrupted(row.machineId).catch(() => undefined);
    }
    for (const e of fs.readdirSync(this.dirs.snapshots)) if (e.startsWith('.')) fs.rmSync(path.join(this.dirs.snapshots, e), { recursive: true, force: true });
    // Files only: a failed snapshot stays listed (say, "interrupted") until someone collects it.
    await collectGarbage(this.store, this.dirs, { failed: false, now: this.now() });
    // Sums the previous run had no time to write.
    for (const row of await listSnapshotRowsInState(this.store, 'complete')) if (row.kind === 'live') this.sumRam(row.path);
  }

  /** The snapshot as one archive file (the caller streams it, then removes it). */
  async exportArchive(ref: string): Promise<{ file: string; name: string }> {
    return exportToFile(await this.complete(ref), this.tmpDir());
  }

  /** A new root snapshot from an archive file (already saved under the data dir's tmp). */
  async importArchive(archive: string): Promise<Snapshot> {
    const id = await importFromFile(this.store, this.dirs, archive, this.now());
    this.changed(id);
    return this.get(id);
  }

  tmpDir(): string {
    const tmp = path.join(this.dirs.root, 'tmp');
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    return tmp;
  }

  /** Remove unreferenced layers, stray snapshot dirs and failed snapshots nothing depends on. */
  async gc(): Promise<GcResult> {
    const r = await collectGarbage(this.store, this.dirs, { failed: true, now: this.now() });
    if (r.removedSnapshots) this.changed('');
    return r;
  }

  private sumRam(dir: string): void {
    addChecksums(dir, ['state', 'ram'], true).catch(() => undefined); // a snapshot deleted meanwhile: nothing to sum
  }

  async checkpoint(p: Principal, ref: string, label?: string): Promise<Job> {
    const m = await this.checkpointable(p, ref);
    return this.machines.lockedJob(
      p,
      m,
      'checkpointing',
      { kind: 'snapshot.checkpoint', title: `Checkpoint ${m.name}${label?.trim() ? ` as "${label.trim()}"` : ''}` },
      async (ctx) => {
        const snap = await this.doCheckpoint(m.id, label, ctx);
        return { snapshot: snap.id, kind: snap.kind, pauseMs: snap.pauseMs };
      },
    );
  }

  /** "Fork now": checkpoint the running machine and start forks from that instant, in one job. */
  async forkNow(p: Principal, ref: string, body: ForkBody): Promise<Job> {
    const m = await this.checkpointable(p, ref);
    await this.machines.preflight(null, m.memoryMib * (body.count ?? 1), []);
    return this.machines.lockedJob(p, m, 'checkpointing', { kind: 'snapshot.fork', title: `Fork ${m.name} now` }, async (ctx) => {
      const snap = await this.doCheckpoint(m.id, `fork point of ${m.name}`, ctx);
      return this.doFork(p, snap, body, ctx);
    });
  }

  async restore(p: Principal, snapshotRef: string, body: RestoreBody): Promise<Job> {
    const snap = await this.complete(snapshotRef);
    const ref = body.machine ?? snap.machineId;
    if (!ref) throw new ConflictError('The machine this snapshot came from is gone: say which machine to restore into, or fork it.');
    const m = await this.machines.get(p, ref);
    const spec = specOf(snap);
    if (m.driver !== snap.driver) throw new ConflictError(`${m.name} is a ${m.driver} machine; this snapshot is ${snap.driver}.`);
    if (snap.kind === 'live' && m.memoryMib !== spec.memoryMib)
      throw new ConflictError(`${m.name} has ${m.memoryMib} MiB of memory; this snapshot was taken with ${spec.memoryMib} MiB.`);
    const checkpointFirst = body.checkpointFirst ?? true;
    await this.verified(snap);
    return this.machines.lockedJob(p, m, 'restoring', { kind: 'snapshot.restore', title: `Restore ${m.name} to ${snap.label}` }, async (ctx) => {
      const was = (await this.machines.get(p, m.id)).state;
      if (checkpointFirst) await this.doCheckpoint(m.id, `${m.name} before restore`, ctx);
      const t0 = performance.now();
      ctx.progress(40, 'Stopping the current state');
      const { spec: ms } = await this.machines.spec(m.id);
      // The current state is discarded (or was just checkpointed): no clean shutdown to wait for.
      // A container's new layer replaces its upper dir: it must be stopped first.
      const stopping = was === 'running' || was === 'paused' ? this.machines.stopMachine(m.id, ctx, { force: true, timeoutS: 0 }) : null;
      if (snap.driver !== 'qemu') await stopping;
      const [[branched]] = await Promise.all([this.branch(snap, [{ id: m.id, dir: ms.dir, name: m.name }], ms.diskGib), stopping]);
      const old = typeof ms.runtime.disk === 'string' ? ms.runtime.disk : null;
      copySshIdentity(snap.path, ms.dir);
      const { spec: stopped } = await this.machines.spec(m.id);
      await this.machines.patch(m.id, { runtime: { ...stopped.runtime, ...branched }, snapshotId: snap.id });
      // The layer it ran on is no snapshot's (a checkpoint would have frozen it): it goes.
      if (old && old.startsWith(this.dirs.layers + path.sep)) fs.rmSync(old, { force: true });
      let runningMs: number | null = null;
      if (snap.kind === 'live') {
        ctx.progress(60, 'Loading the saved memory and devices');
        await this.machines.startMachine(m.id, ctx, 60, {
          dir: snap.path,
          banner: `restored to snapshot "${snap.label}"`,
          fixups: {},
          onRunning: () => (runningMs = Math.round(performance.now() - t0)),
        });
        ctx.log(`guest running again ${runningMs} ms after the restore began (stop, new disk layer, device state)`);
      } else if (was === 'running' || was === 'paused') {
        await this.machines.startMachine(m.id, ctx, 60);
      }
      this.changed(snap.id);
      return { machine: m.id, snapshot: snap.id, runningMs };
    });
  }

  async fork(p: Principal, snapshotRef: string, body: ForkBody): Promise<Job> {
    const snap = await this.complete(snapshotRef);
    await this.machines.preflight(null, specOf(snap).memoryMib * (body.count ?? 1), []);
    await this.verified(snap);
    const { job } = await this.jobs.start({ kind: 'snapshot.fork', title: `Fork ${snap.label} ×${body.count ?? 1}`, ownerId: p.user.id }, (ctx) =>
      this.doFork(p, snap, body, ctx),
    );
    return job;
  }

  /** Delete a node: refused while children or machines depend on it, unless `cascade` (then its subtree goes too). */
  async remove(ref: string, cascade: boolean): Promise<void> {
    const { id } = await this.resolve(ref);
    await deleteSnapshotTree(this.store, this.dirs, id, cascade);
    this.changed(id);
  }

  async relabel(ref: string, label: string): Promise<Snapshot> {
    const { id } = await this.resolve(ref);
    if (!(await updateSnapshot(this.store, id, { label }))) throw new NotFoundError('Snapshot');
    this.changed(id);
    return this.get(id);
  }

  private async checkpointable(p: Principal, ref: string): Promise<Machine> {
    const m = await this.machines.get(p, ref);
    if (!['running', 'paused', 'stopped'].includes(m.state)) throw new ConflictError(`Cannot checkpoint ${m.name}: it is ${m.state}.`);
    return m;
  }

  private async complete(ref: string): Promise<SnapshotRow> {
    const snap = await this.resolve(ref);
    if (snap.state !== 'complete') throw new ConflictError(`This snapshot is ${snap.state}: it cannot be restored or forked.`);
    return snap;
  }

  private async doCheckpoint(machineId: string, label: string | undefined, ctx: JobContext): Promise<SnapshotRow> {
    const { row, spec } = await this.machines.spec(machineId);
    const live = row.state === 'running' || row.state === 'paused';
    const id = newId('snp');
    const final = resolveInside(this.dirs.snapshots, id);
    const tmp = resolveInside(this.dirs.snapshots, `.${id}.tmp`);
    await insertSnapshot(this.store, {
      id,
      parentId: row.snapshotId,
      machineId,
      kind: live ? 'live' : 'disk',
      state: 'pending',
      sizeBytes: 0,
      pauseMs: null,
      path: final,
      createdAt: this.now(),
      label: label?.trim() || `${row.name} ${new Date(this.now()).toISOString().slice(0, 19).replace('T', ' ')}`,
      driver: row.driver,
      image: row.image,
      diskPath: '',
      // Containers also record the layers they stand on, for restores and forks to stack again.
      specJson: JSON.stringify({
        cpus: row.cpus,
        memoryMib: row.memoryMib,
        diskGib: row.diskGib,
        ssh: spec.runtime.ssh === true,
        ...(row.driver === 'nspawn' ? { rootfs: spec.runtime.rootfs, lowers: spec.runtime.lowers ?? [] } : {}),
        ...(row.driver !== 'qemu' ? { network: spec.runtime.network, command: spec.runtime.command ?? null } : {}),
      }),
    });
    this.changed(id);
    ctx.progress(10, live ? 'Saving memory, devices and disk (guest paused)' : 'Freezing the disk layer');
    try {
      const res = await driverFor(row.driver).checkpoint(spec, tmp);
      // The machine writes to its new layer from now on, whatever happens next.
      await this.machines.patch(machineId, { runtime: { ...spec.runtime, ...(res.disk ? { disk: res.disk } : {}) }, snapshotId: id });
      if (res.liveError) ctx.log(`warning: live state not saved (${res.liveError}); the snapshot keeps the disk only`);
      // Out of the pause already. The device state is summed before the snapshot counts as
      // complete; the RAM file (hundreds of MB to read) just after, off the job.
      await addChecksums(tmp, ['state']);
      fs.renameSync(tmp, final);
      const size = [snapshotFiles(final).state, snapshotFiles(final).ram, res.frozenDisk].reduce((a, f) => a + diskUsage(f), res.frozenBytes ?? 0);
      const done = (await updateSnapshot(this.store, id, {
        state: 'complete',
        kind: res.live ? 'live' : 'disk',
        pauseMs: res.pauseMs,
        sizeBytes: size,
        diskPath: res.frozenDisk,
      }))!;
      if (res.live) this.sumRam(final);
      ctx.log(res.live ? `live snapshot ${id}: guest paused ${res.pauseMs} ms, ${(size / 2 ** 20).toFixed(1)} MiB on disk` : `disk snapshot ${id}`);
      this.changed(id);
      return done;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      await updateSnapshot(this.store, id, { state: 'failed' });
      this.changed(id);
      throw err;
    }
  }

  private async doFork(
    p: Principal,
    snap: SnapshotRow,
    body: ForkBody,
    ctx: JobContext,
  ): Promise<{ machines: string[]; snapshot: string; runningMs: number | null }> {
    const t0 = performance.now();
    const spec = specOf(snap);
    const source = snap.machineId ? await getMachineRow(this.store, { id: snap.machineId }) : undefined;
    const prefix = body.namePrefix ?? `${(source?.name ?? 'fork').slice(0, 50)}-fork`;
    const taken = new Set((await listMachines(this.store)).map((m) => m.name));
    const names: string[] = body.names ? [...body.names] : [];
    const clash = names.find((n) => taken.has(n));
    if (clash) throw new ConflictError(`A machine named "${clash}" exists already.`);
    for (let i = 1; names.length < (body.count ?? 1); i++) if (!taken.has(`${prefix}-${i}`)) names.push(`${prefix}-${i}`);
    ctx.progress(20, `Starting ${names.length} fork${names.length === 1 ? '' : 's'} of "${snap.label}"`);
    const ids = names.map(() => newId('mch'));
    const runtimes = await this.branch(
      snap,
      ids.map((id, i) => ({ id, dir: resolveInside(this.dirs.machines, id), name: names[i] })),
      spec.diskGib,
    );
    let running = 0;
    let runningMs: number | null = null;
    const onRunning = () => {
      if (++running === names.length) runningMs = Math.round(performance.now() - t0);
    };
    await Promise.all(names.map((name, i) => this.forkOne(p, snap, spec, { id: ids[i], name, runtime: runtimes[i] }, !!body.newIdentity, ctx, onRunning)));
    if (runningMs !== null)
      ctx.log(`all ${names.length} guests running ${runningMs} ms after the fork began; fix-ups done after ${Math.round(performance.now() - t0)} ms`);
    this.changed(snap.id);
    return { machines: ids, snapshot: snap.id, runningMs };
  }

  private async forkOne(
    p: Principal,
    snap: SnapshotRow,
    spec: ReturnType<typeof specOf>,
    fork: { id: string; name: string; runtime: Record<string, unknown> },
    newIdentity: boolean,
    ctx: JobContext,
    onRunning: () => void,
  ): Promise<string> {
    const { id, name, runtime } = fork;
    const mac = randomMac();
    const now = this.now();
    const m = await insertMachine(this.store, {
      id,
      name,
      driver: snap.driver as Machine['driver'],
      image: snap.image,
      state: 'stopped',
      stateReason: null,
      cpus: spec.cpus,
      memoryMib: spec.memoryMib,
      diskGib: spec.diskGib,
      ports: [],
      ownerId: p.user.id,
      createdAt: now,
      updatedAt: now,
      snapshotId: snap.id,
      runtime: { ...runtime, mac, ssh: spec.ssh },
    });
    this.bus.publish('machine:update', m);
    const dir = resolveInside(this.dirs.machines, id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    copySshIdentity(snap.path, dir);
    const from =
      snap.kind === 'live'
        ? { dir: snap.path, banner: `forked from snapshot "${snap.label}"`, fixups: { hostname: name, mac, newIdentity }, onRunning }
        : undefined;
    await this.machines.startMachine(id, ctx, 20, from);
    ctx.log(`${name} running (${from ? 'carried on from the snapshot' : 'booted from its disk'})`);
    return id;
  }

  /** New writable layers on the snapshot's frozen one, one per machine (the driver's kind of layer). */
  private branch(snap: SnapshotRow, targets: { id: string; dir: string; name: string }[], diskGib: number): Promise<Record<string, unknown>[]> {
    return driverFor(snap.driver as Machine['driver']).branch(
      snap.diskPath,
      targets.map((t) => ({ ...t, layers: this.dirs.layers, diskGib })),
      JSON.parse(snap.specJson),
    );
  }

  /** The device state is read back on every restore and fork: it must be the one written. */
  private async verified(snap: SnapshotRow): Promise<void> {
    if (snap.kind !== 'live') return;
    await verifyChecksums(snap.path, ['state']).catch((err: Error) => {
      throw new ConflictError(`Snapshot "${snap.label}" is damaged: ${err.message}.`);
    });
  }

  private changed(id: string): void {
    this.bus.publish('snapshots:changed', { id });
  }
}
