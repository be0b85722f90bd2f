import fs from 'node:fs';
import path from 'node:path';
import type { Job } from '@/lib/contracts/jobs';
import type { Machine } from '@/lib/contracts/machines';
import type { ForkBody, RestoreBody, Snapshot } from '@/lib/contracts/snapshots';
import type { Store } from '@/db/client';
import { listMachines } from '@/db/repo/machines';
import {
  getSnapshotRow,
  listSnapshotRows,
  listSnapshotRowsInState,
  snapshotRowsLabelled,
  specOf,
  toSnapshot,
  updateSnapshot,
  type SnapshotRow,
} from '@/db/repo/snapshots';
import { isValidId } from '@/lib/contracts/common';
import { PhaseTimer } from '@/lib/phases';
import type { Principal } from './auth';
import type { EventBus } from './events';
import { askFor, type Reservation } from './limits';
import { ConflictError, NotFoundError } from './errors';
import type { JobContext, JobRunner } from './jobs';
import type { MachineService } from './machines';
import { verifyChecksums } from './checksums';
import { collectGarbage, deleteSnapshotTree, pruneUndoPoint, type GcResult } from './snapshot-gc';
import { exportToFile, importFilled, importFromFile } from './snapshot-archive';
import { sumLiveFiles, takeCheckpoint } from './snapshot-checkpoint';
import { SnapshotForks, type ForkSize } from './snapshot-fork';
import type { HotPool } from './hot-pool';
import type { ReplicaService } from './cluster/replicas';

/** Checkpoint, restore, fork and the snapshot tree. Files go to a temp dir, renamed only when complete. */
export class SnapshotService {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly machines: MachineService,
    private readonly dirs: { root: string; snapshots: string; layers: string; machines: string },
    private readonly now: () => number = Date.now,
  ) {
    this.forks = new SnapshotForks({ store, bus, machines, dirs, now, hot: () => this.hot });
  }

  private readonly forks: SnapshotForks;
  /** Hot snapshots' standbys (set once the pool is made: see hangar.ts). */
  hot: HotPool | null = null;
  /** Copies of snapshots other nodes hold, for forks here (a cluster; see hangar.ts). */
  replicas: ReplicaService | null = null;

  async list(): Promise<Snapshot[]> {
    const [rows, ms, linked, copies] = await Promise.all([listSnapshotRows(this.store), listMachines(this.store), this.linked(), this.copies()]);
    return rows.map((r) => this.view(r, ms, linked, copies));
  }

  private copies(): Promise<Map<string, Snapshot['copies']>> {
    return this.replicas ? this.replicas.views() : Promise.resolve(new Map());
  }

  /** Mark a snapshot hot (its driver keeps standbys started ahead for forks) or not; the pool follows in the background. */
  async setHot(ref: string, hot: boolean): Promise<Snapshot> {
    const snap = await this.resolve(ref);
    if (hot && snap.kind !== 'live') throw new ConflictError('A disk-only snapshot has no memory to start ahead from: only live snapshots can be hot.');
    const desc = this.machines.describe(this.kindOf(snap)).hotStandby;
    if (hot && !desc.available) throw new ConflictError(`This snapshot cannot be hot: ${desc.reason}`);
    await updateSnapshot(this.store, snap.id, { hot });
    if (!hot) await this.hot?.drop(snap.id);
    void this.hot?.kick();
    this.changed(snap.id);
    return this.get(snap.id);
  }

  private linked(): Promise<Set<string>> {
    return this.hot ? this.hot.linked() : Promise.resolve(new Set());
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
    const [row, ms, linked, copies] = await Promise.all([this.resolve(ref), listMachines(this.store), this.linked(), this.copies()]);
    return this.view(row, ms, linked, copies);
  }

  private view(r: SnapshotRow, ms: Pick<Machine, 'id' | 'name' | 'snapshotId'>[], linked: Set<string>, copies: Map<string, Snapshot['copies']>): Snapshot {
    const source = ms.find((m) => m.id === r.machineId);
    const snap = toSnapshot(
      r,
      source?.name ?? null,
      ms.filter((m) => m.snapshotId === r.id).map((m) => ({ id: m.id, name: m.name })),
    );
    return { ...snap, pool: this.hot?.view(r, linked.has(r.id)) ?? null, copies: copies.get(r.id) ?? [] };
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
    await collectGarbage(this.store, this.dirs, this.machines, { failed: false, now: this.now(), held: this.hot?.layers() });
    // Sums the previous run had no time to write.
    for (const row of await listSnapshotRowsInState(this.store, 'complete')) if (row.kind === 'live') sumLiveFiles(this.machines, row);
  }

  /** The snapshot as one archive file (the caller streams it, then removes it). */
  async exportArchive(ref: string): Promise<{ file: string; name: string }> {
    const snap = await this.complete(ref);
    return exportToFile(snap, this.machines.describe(this.kindOf(snap)).archiveExport, this.machines.driver(this.kindOf(snap)).archive, this.tmpDir());
  }

  /** A new root snapshot from an archive file (already saved under the data dir's tmp). */
  async importArchive(archive: string): Promise<Snapshot> {
    const id = await importFromFile(this.store, this.dirs, (kind) => this.machines.driver(kind).archive, archive, this.now());
    this.changed(id);
    return this.get(id);
  }

  /** A new root snapshot from archive members that `fill` writes into a work dir (a restore from a backup). */
  async importStaged(fill: (work: string) => Promise<void>): Promise<Snapshot> {
    const id = await importFilled(this.store, this.dirs, (kind) => this.machines.driver(kind).archive, fill, this.now());
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
    const r = await collectGarbage(this.store, this.dirs, this.machines, { failed: true, now: this.now(), held: this.hot?.layers() });
    if (r.removedSnapshots) this.changed('');
    return r;
  }

  private kindOf(snap: SnapshotRow): Machine['driver'] {
    return snap.driver as Machine['driver'];
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

  /**
   * A checkpoint inside another job (a schedule's run): the machine's lock held meanwhile (busy:
   * ConflictError), the snapshot marked as the schedule's so that its retention may prune it.
   */
  async checkpointFor(scheduleId: string, machineId: string, label: string, ctx: JobContext, undoPoint = false): Promise<SnapshotRow> {
    this.machines.locks.lock(machineId, 'checkpointing');
    try {
      const snap = await this.doCheckpoint(machineId, label, ctx);
      return (await updateSnapshot(this.store, snap.id, { scheduleId, undoPoint })) ?? snap;
    } finally {
      this.machines.locks.unlock(machineId);
    }
  }

  /** "Fork now": checkpoint the running machine and start forks from that instant, in one job. */
  async forkNow(p: Principal, ref: string, body: ForkBody): Promise<Job> {
    const m = await this.checkpointable(p, ref);
    await this.machines.preflight(null, m.memoryMib * (body.count ?? 1), []);
    const held = await this.reserveForks(p, body, m);
    try {
      return await this.machines.lockedJob(p, m, 'checkpointing', { kind: 'snapshot.fork', title: `Fork ${m.name} now` }, async (ctx) => {
        try {
          const snap = await this.doCheckpoint(m.id, `fork point of ${m.name}`, ctx);
          return await this.doFork(p, snap, body, ctx, held);
        } finally {
          held.release();
        }
      });
    } catch (err) {
      held.release();
      throw err;
    }
  }

  /** The forks' owner's limits: checked now (a 409 before any job) and held until the job wrote their rows. */
  private async reserveForks(p: Principal, body: ForkBody, size: { cpus: number; memoryMib: number; diskGib: number }): Promise<Reservation> {
    const n = body.names?.length ?? body.count ?? 1;
    return this.machines.limits.reserve(await this.machines.limits.chargeTo(p), askFor(n, size));
  }

  async restore(p: Principal, snapshotRef: string, body: RestoreBody): Promise<Job> {
    const snap = await this.complete(snapshotRef);
    const ref = body.machine ?? snap.machineId;
    if (!ref) throw new ConflictError('The machine this snapshot came from is gone: say which machine to restore into, or fork it.');
    const m = await this.machines.get(p, ref);
    const spec = specOf(snap);
    // A machine nothing can checkpoint has no state Hangar holds to restore (an adopted one's disk is not Hangar's).
    const can = m.capabilities.checkpoint;
    if (can.running === 'none' && can.stopped === 'none') throw new ConflictError(`Cannot restore ${m.name}: ${can.reason ?? 'its driver cannot'}`);
    if (m.driver !== snap.driver) throw new ConflictError(`${m.name} is a ${m.driver} machine; this snapshot is ${snap.driver}.`);
    if (snap.kind === 'live' && m.memoryMib !== spec.memoryMib)
      throw new ConflictError(`${m.name} has ${m.memoryMib} MiB of memory; this snapshot was taken with ${spec.memoryMib} MiB.`);
    const checkpointFirst = body.checkpointFirst ?? true;
    // Held by another node (a cluster; the machine moved, or was forked here): the job copies it here first.
    const here = !this.replicas || this.replicas.holds(snap);
    if (here) await this.verified(snap);
    return this.machines.lockedJob(p, m, 'restoring', { kind: 'snapshot.restore', title: `Restore ${m.name} to ${snap.label}` }, async (ctx) => {
      const local = here ? snap : await this.replicas!.local(snap, ctx);
      if (!here) await this.verified(local);
      // Its machine boots the image's kernel (a VM): copied here too, in this job's log.
      if (!here) await this.machines.imageHere(snap.image, snap.driver as Machine['driver'], ctx);
      const was = (await this.machines.get(p, m.id)).state;
      if (checkpointFirst) await this.doCheckpoint(m.id, `${m.name} before restore`, ctx);
      // Marked before the stop: the console being recorded ends with it.
      this.moment(m.id, 'restore', snap.label, snap.id);
      const timer = new PhaseTimer();
      ctx.progress(40, 'Stopping the current state');
      const { spec: ms } = await this.machines.spec(m.id);
      const driver = this.machines.driver(m.driver);
      // The current state is discarded (or was just checkpointed): no clean shutdown to wait for.
      // A driver whose new layer replaces the machine's files needs it stopped first.
      const stop = was === 'running' || was === 'paused' ? this.machines.stopMachine(m.id, ctx, { force: true, timeoutS: 0 }) : null;
      const stopping = stop && timer.beside('stop_old', stop);
      if (!driver.branchesBesideRunning) await stopping;
      const branching = timer.beside('new_layer', this.forks.branch(local, [{ id: m.id, dir: ms.dir, name: m.name }], ms.diskGib, 'restore'));
      const [[branched], stoppedRow] = await Promise.all([branching, stopping]);
      timer.mark('stop_and_layer');
      const stopped = stoppedRow ? this.machines.toSpec(stoppedRow) : ms;
      const restored = await this.machines.patch(m.id, { runtime: { ...stopped.runtime, ...branched }, snapshotId: snap.id });
      // The layer it ran on is no snapshot's (a checkpoint would have frozen it): it goes.
      driver.discard?.(ms);
      timer.mark('record_layer');
      let runningMs: number | null = null;
      if (snap.kind === 'live') {
        ctx.progress(60, 'Loading the saved memory and devices');
        await this.machines.startMachine(
          m.id,
          ctx,
          60,
          {
            dir: local.path,
            banner: `restored to snapshot "${snap.label}"`,
            // Another machine's snapshot: the guest takes this machine's name (and, on a VM, its MAC), as a fork does.
            fixups: snap.machineId === m.id ? {} : { hostname: m.name },
            phases: timer,
            onRunning: () => (runningMs = Math.round(timer.elapsed())),
          },
          restored,
        );
        ctx.log(`guest running again ${runningMs} ms after the restore began (stop, new disk layer, device state)`);
      } else if (was === 'running' || was === 'paused') {
        await this.machines.startMachine(m.id, ctx, 60, undefined, restored);
      }
      this.changed(snap.id);
      const phases = timer.record();
      ctx.log(
        `phases (ms): ${Object.entries(phases)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      return { machine: m.id, snapshot: snap.id, runningMs, phases };
    });
  }

  /** `size`: the forks' CPUs and memory when not the snapshot's (a fork link's; a disk snapshot's forks boot afresh). */
  async fork(p: Principal, snapshotRef: string, body: ForkBody, size?: ForkSize): Promise<Job> {
    const snap = await this.complete(snapshotRef);
    const spec = { ...specOf(snap), ...size };
    await this.machines.preflight(null, spec.memoryMib * (body.count ?? 1), []);
    // Held by another node (a cluster): the job copies it here first (or finds the copy made before).
    const here = !this.replicas || this.replicas.holds(snap);
    if (here) await this.verified(snap);
    const held = await this.reserveForks(p, body, spec);
    try {
      const { job } = await this.jobs.start({ kind: 'snapshot.fork', title: `Fork ${snap.label} ×${body.count ?? 1}`, ownerId: p.user.id }, async (ctx) => {
        try {
          const local = here ? snap : await this.replicas!.local(snap, ctx);
          if (!here) await this.verified(local);
          if (!here) await this.machines.imageHere(snap.image, snap.driver as Machine['driver'], ctx);
          return await this.doFork(p, local, body, ctx, held, size);
        } finally {
          held.release();
        }
      });
      return job;
    } catch (err) {
      held.release();
      throw err;
    }
  }

  /** Delete a node: refused while children or machines depend on it, unless `cascade` (then its subtree goes too). */
  async remove(ref: string, cascade: boolean): Promise<void> {
    const { id } = await this.resolve(ref);
    // Its standbys hold its files open; those of snapshots below it (cascade) go at the pool's next turn.
    await this.hot?.drop(id);
    const gone = await deleteSnapshotTree(this.store, this.dirs, this.machines, id, cascade);
    void this.hot?.kick();
    this.changed(id);
    // Their copies on other nodes (a cluster) go too: see ReplicaService.dropGone.
    await this.replicas?.dropGone(gone);
  }

  /** An undo point out of its ring (see pruneUndoPoint in snapshot-gc.ts). */
  async pruneUndoPoint(id: string): Promise<void> {
    await pruneUndoPoint(this.store, this.dirs, this.machines, id);
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
    const can = m.capabilities.checkpoint;
    if ((m.state === 'stopped' ? can.stopped : can.running) === 'none')
      throw new ConflictError(`Cannot checkpoint ${m.name}: ${can.reason ?? 'its driver cannot checkpoint it'}`);
    return m;
  }

  private async complete(ref: string): Promise<SnapshotRow> {
    const snap = await this.resolve(ref);
    if (snap.state !== 'complete') throw new ConflictError(`This snapshot is ${snap.state}: it cannot be restored or forked.`);
    return snap;
  }

  /** A checkpoint of the machine as a new node (see snapshot-checkpoint.ts). */
  private async doCheckpoint(machineId: string, label: string | undefined, ctx: JobContext): Promise<SnapshotRow> {
    const snap = await takeCheckpoint(
      { store: this.store, machines: this.machines, dirs: this.dirs, now: this.now, changed: (id) => this.changed(id) },
      machineId,
      label,
      ctx,
    );
    this.moment(machineId, 'checkpoint', snap.label, snap.id);
    return snap;
  }

  /** Forks of a snapshot, in one job (see snapshot-fork.ts). */
  private async doFork(p: Principal, snap: SnapshotRow, body: ForkBody, ctx: JobContext, held: Reservation, size?: ForkSize) {
    const r = await this.forks.fork(p, snap, body, ctx, held, size);
    this.changed(snap.id);
    if (snap.machineId) this.moment(snap.machineId, 'fork', `${snap.label} → ${r.machines.length} fork${r.machines.length === 1 ? '' : 's'}`, snap.id);
    return r;
  }

  /** The device state is read back on every restore and fork: it must be the one written. */
  private async verified(snap: SnapshotRow): Promise<void> {
    if (snap.kind !== 'live') return;
    await verifyChecksums(snap.path, this.machines.driver(this.kindOf(snap)).snapshotFiles.checked).catch((err: Error) => {
      throw new ConflictError(`Snapshot "${snap.label}" is damaged: ${err.message}.`);
    });
  }

  /** Tell the machine's console recordings (see 'machine:moment'): the snapshot code knows nothing of consoles. */
  private moment(machineId: string, kind: 'checkpoint' | 'restore' | 'fork', text: string, snapshotId: string): void {
    this.bus.publish('machine:moment', { machineId, kind, text, snapshotId });
  }

  private changed(id: string): void {
    this.bus.publish('snapshots:changed', { id });
  }
}
