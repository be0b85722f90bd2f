import fs from 'node:fs';
import path from 'node:path';
import type { Backup, CreateBackupTargetBody } from '@/lib/contracts/backups';
import type { Job } from '@/lib/contracts/jobs';
import type { DriverKind } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { listMachines } from '@/db/repo/machines';
import type { SnapshotRow } from '@/db/repo/snapshots';
import type { Principal } from '../auth';
import { ConflictError, HangarError, NotFoundError } from '../errors';
import type { JobContext, JobRunner } from '../jobs';
import type { MachineService } from '../machines';
import type { SnapshotService } from '../snapshots';
import { backupManifestSchema, allLayers, beyondKeep, idOfManifestKey, manifestKey, MANIFESTS, toBackup, unreferenced, type BackupManifest } from './manifest';
import { ObjectMissingError } from './object-store';
import { BackupTargetService, type OpenTarget } from './targets';
import { fillFromBackup } from './restore';
import { readSmall, stepper } from './transfer';
import { uploadBackup } from './upload';
import { checkVolumeMembers } from './volumes';

/**
 * Backups of snapshots to targets (see manifest.ts for the layout on a target), their list, and
 * restores into new machines on this or another Hangar. Work on one target runs one at a time
 * in this server, so that deleting a backup never collects a layer that a backup running
 * meanwhile counted on.
 */
export class BackupService {
  readonly targets: BackupTargetService;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly machines: MachineService,
    private readonly snapshots: SnapshotService,
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.targets = new BackupTargetService(store, dataDir, now);
  }

  addTarget(userId: string | null, body: CreateBackupTargetBody) {
    return this.targets.create(userId, body);
  }

  private serial<T>(targetId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(targetId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.queues.set(targetId, next);
    void next.finally(() => this.queues.get(targetId) === next && this.queues.delete(targetId)).catch(() => undefined);
    return next;
  }

  /** Run `fn` on the opened target, its failures told with the target's name. */
  private async on<T>(ref: string, fn: (t: OpenTarget) => Promise<T>): Promise<T> {
    const t = this.targets.open(await this.targets.row(ref));
    try {
      return await this.serial(t.row.id, () => fn(t));
    } catch (err) {
      if (err instanceof HangarError || (err as Error).name === 'AbortError') throw err;
      throw new Error(t.explain(err), { cause: err });
    } finally {
      t.close();
    }
  }

  /** What can be backed up: a complete snapshot of a driver whose archives keep their layers apart. */
  private async backable(ref: string): Promise<SnapshotRow> {
    const snap = await this.snapshots.resolve(ref);
    if (snap.state !== 'complete') throw new ConflictError(`This snapshot is ${snap.state}: it cannot be backed up.`);
    const kind = snap.driver as DriverKind;
    const can = this.machines.describe(kind).archiveExport;
    if (!can.available || !this.machines.driver(kind).archive?.join)
      throw new ConflictError(can.reason ?? `Backups of ${snap.driver} snapshots are not available.`);
    return snap;
  }

  async backup(p: Principal, snapRef: string, targetRef: string): Promise<Job> {
    const snap = await this.backable(snapRef);
    const target = await this.targets.row(targetRef);
    const { job } = await this.jobs.start({ kind: 'backup.create', title: `Back up ${snap.label} to ${target.name}`, ownerId: p.user.id }, (ctx) =>
      this.backupIn(snap.id, target.id, null, ctx),
    );
    return job;
  }

  /** A backup inside a job (its own, or a schedule's run); `scheduleId` marks it for that schedule's keep-last-N on the target. */
  async backupIn(snapRef: string, targetRef: string, scheduleId: string | null, ctx: JobContext) {
    const snap = await this.backable(snapRef);
    const kind = snap.driver as DriverKind;
    const archiver = this.machines.driver(kind).archive!;
    // A driver whose layers are no files (container directories) packs each into a file here first.
    const tmp = archiver.layerFiles || archiver.volumes ? fs.mkdtempSync(path.join(this.snapshots.tmpDir(), 'backup-')) : null;
    try {
      return await this.upload(snap, targetRef, scheduleId, ctx, tmp);
    } finally {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  private upload(snap: SnapshotRow, targetRef: string, scheduleId: string | null, ctx: JobContext, tmp: string | null) {
    const driver = this.machines.driver(snap.driver as DriverKind);
    const src = { store: this.store, snap, archiver: driver.archive!, chainOf: (f: string) => driver.chainOf(f), scheduleId, tmp, now: this.now };
    return this.on(targetRef, (t) => uploadBackup(t, src, ctx));
  }

  private async manifests(t: OpenTarget): Promise<BackupManifest[]> {
    const out: BackupManifest[] = [];
    for (const o of await t.store.list(MANIFESTS)) {
      const id = idOfManifestKey(o.key);
      if (!id) continue;
      const m = backupManifestSchema.safeParse(JSON.parse(await readSmall(t.store, o.key).catch(() => 'null')));
      if (m.success && m.data.id === id) out.push(m.data);
    }
    return out.sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
  }

  private async manifest(t: OpenTarget, id: string): Promise<BackupManifest> {
    let text: string;
    try {
      text = await readSmall(t.store, manifestKey(id));
    } catch (err) {
      if (err instanceof ObjectMissingError) throw new NotFoundError(`Backup ${id} on ${t.row.name}`);
      throw err;
    }
    const m = backupManifestSchema.safeParse(JSON.parse(text));
    if (!m.success || m.data.id !== id) throw new ConflictError(`Backup ${id} on ${t.row.name} has a damaged manifest.`);
    return m.data;
  }

  /** What a target holds, newest first. */
  async list(targetRef: string): Promise<Backup[]> {
    return this.on(targetRef, async (t) => (await this.manifests(t)).map((m) => toBackup(m, t.row.id)));
  }

  async get(targetRef: string, id: string): Promise<Backup> {
    return this.on(targetRef, async (t) => toBackup(await this.manifest(t, id), t.row.id));
  }

  /** Delete a backup, then every object no remaining manifest names. */
  async remove(targetRef: string, id: string): Promise<{ removedObjects: number }> {
    return this.on(targetRef, async (t) => {
      await this.manifest(t, id);
      await t.store.remove(manifestKey(id));
      return { removedObjects: await this.collect(t) };
    });
  }

  private async collect(t: OpenTarget): Promise<number> {
    const manifests = await this.manifests(t);
    const stored = [...(await t.store.list('blobs/')), ...(await t.store.list('layers/')), ...(await t.store.list('chunks/'))];
    const gone = unreferenced(manifests, stored);
    for (const key of gone) await t.store.remove(key);
    return gone.length;
  }

  /** A schedule's backups of a machine on a target beyond its newest `keep`, deleted (and what they alone held). */
  async prune(targetRef: string, scheduleId: string, machineId: string | null, keep: number, ctx: JobContext): Promise<string[]> {
    return this.on(targetRef, async (t) => {
      const drop = beyondKeep(await this.manifests(t), scheduleId, machineId, keep);
      for (const id of drop) await t.store.remove(manifestKey(id));
      if (drop.length) ctx.log(`pruned ${drop.length} backups on ${t.row.name} (keeping the last ${keep}); ${await this.collect(t)} objects freed`);
      return drop;
    });
  }

  /**
   * A new machine from a backup: every object downloaded and checked (size, SHA-256) into a
   * snapshot's work dir, the disk layers joined, the whole checked as an archive is, recorded as
   * a new root snapshot and forked under `name`. A damaged or missing object fails the job
   * before anything runs, leaving nothing behind.
   */
  async restore(p: Principal, targetRef: string, id: string, name: string): Promise<Job> {
    const target = await this.targets.row(targetRef);
    if ((await listMachines(this.store)).some((m) => m.name === name)) throw new ConflictError(`A machine is already named "${name}".`);
    const { job } = await this.jobs.start({ kind: 'backup.restore', title: `Restore backup ${id} from ${target.name} as ${name}`, ownerId: p.user.id }, (ctx) =>
      this.restoreIn(p, target.id, id, name, ctx),
    );
    return job;
  }

  private async restoreIn(p: Principal, targetId: string, id: string, name: string, ctx: JobContext) {
    const snap = await this.on(targetId, async (t) => {
      const m = await this.manifest(t, id);
      const archiver = this.machines.driver(m.driver as DriverKind)?.archive;
      if (!archiver?.join) throw new ConflictError(`Backups of ${m.driver} snapshots cannot be restored here.`);
      for (const f of m.files) if (!archiver.members.includes(f.name)) throw new ConflictError(`Backup ${id}: unexpected file "${f.name}".`);
      for (const d of m.disks ?? [])
        if (!archiver.extraDisks?.members.includes(d.member)) throw new ConflictError(`Backup ${id}: unexpected disk "${d.member}".`);
      checkVolumeMembers(m, archiver);
      const total = [...m.files, ...(m.volumes ?? []), ...allLayers(m)].reduce((a, o) => a + o.size, 0);
      const step = stepper(ctx, 2, 80, total, 'Downloaded and checked');
      return this.snapshots.importStaged((work) => fillFromBackup(t.store, m, archiver, work, step, ctx));
    }).catch((err: Error) => {
      ctx.log(`restore failed: ${err.message}`);
      throw err;
    });
    ctx.log(`snapshot ${snap.id} ("${snap.label}") restored from the backup; starting ${name} from it`);
    ctx.progress(92, `Starting ${name}`);
    try {
      const fork = await this.jobs.waitFor(await this.snapshots.fork(p, snap.id, { count: 1, names: [name] }), ctx);
      return { backup: id, snapshot: snap.id, machine: name, fork: fork.result };
    } catch (err) {
      // No machine came of it: the snapshot it would have stood on goes too.
      await this.snapshots.remove(snap.id, true).catch(() => undefined);
      throw err;
    }
  }
}
