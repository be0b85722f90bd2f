import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Backup, CreateBackupTargetBody } from '@/lib/contracts/backups';
import type { Job } from '@/lib/contracts/jobs';
import type { DriverKind } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { listMachines } from '@/db/repo/machines';
import type { SnapshotRow } from '@/db/repo/snapshots';
import type { Principal } from '../auth';
import { addChecksums, readChecksums, sha256File } from '../checksums';
import { ConflictError, HangarError, NotFoundError } from '../errors';
import type { JobContext, JobRunner } from '../jobs';
import type { MachineService } from '../machines';
import type { SnapshotService } from '../snapshots';
import {
  BACKUP_FORMAT,
  backupManifestSchema,
  allLayers,
  beyondKeep,
  blobKey,
  idOfManifestKey,
  layerKey,
  manifestKey,
  MANIFESTS,
  newBackupId,
  planUpload,
  toBackup,
  unreferenced,
  type BackupManifest,
} from './manifest';
import { CHUNK_BYTES, chunkKey, uploadChunked, type Chunk } from './chunks';
import { ObjectMissingError } from './object-store';
import { BackupTargetService, type OpenTarget } from './targets';
import { fillFromBackup } from './restore';
import { MiB, readSmall, stepper, uploadFile } from './transfer';
import { checkVolumeMembers, volumeBlobs } from './volumes';

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
    return this.on(targetRef, async (t) => {
      const kind = snap.driver as DriverKind;
      const archiver = this.machines.driver(kind).archive!;
      ctx.progress(1, 'Summing the snapshot files');
      await addChecksums(snap.path, archiver.summed);
      const sums = readChecksums(snap.path);
      const files = [];
      for (const name of archiver.members) {
        const file = path.join(snap.path, name);
        if (!fs.existsSync(file)) continue;
        const sha256 = sums.get(name) ?? (await sha256File(file));
        const size = fs.statSync(file).size;
        files.push({ name, file, sha256, size, key: blobKey(sha256), chunked: size > CHUNK_BYTES });
      }
      const layers = [];
      // Bottom first: the image's disk, then each frozen layer up to the snapshot's.
      const layerFiles = archiver.layerFiles
        ? await archiver.layerFiles(snap.diskPath, JSON.parse(snap.specJson) as Record<string, unknown>, tmp!)
        : this.machines.driver(kind).chainOf(snap.diskPath).reverse();
      const layerOf = async (file: string) => {
        const sha256 = await sha256File(file);
        return { name: path.basename(file), file, sha256, size: fs.statSync(file).size, key: layerKey(sha256) };
      };
      for (const file of layerFiles) layers.push(await layerOf(file));
      // Extra disks (a VM's): each frozen layer of each one's chain, bottom first, kept apart like the root disk's.
      const disks = [];
      for (const x of archiver.extraDisks?.of(JSON.parse(snap.specJson) as Record<string, unknown>) ?? [])
        disks.push({ member: x.member, layers: await Promise.all(this.machines.driver(kind).chainOf(x.frozen).reverse().map(layerOf)) });
      const volumes = await volumeBlobs(archiver, snap, tmp!);
      ctx.progress(4, 'Asking the target what it holds');
      const whole = [...files.filter((f) => !f.chunked), ...volumes, ...layers, ...disks.flatMap((d) => d.layers)];
      const present = new Map<string, number>();
      for (const o of whole) {
        const size = present.has(o.key) ? null : await t.store.head(o.key);
        if (size !== null) present.set(o.key, size);
      }
      const { upload, skip } = planUpload(whole, present);
      for (const o of skip) ctx.log(`${o.key} (${o.name}) is on the target already: not uploaded`);
      const chunked = files.filter((f) => f.chunked);
      const chunksThere = new Map((await t.store.list('chunks/')).map((o) => [o.key, o.size]));
      const total = [...upload, ...chunked].reduce((a, o) => a + o.size, 0);
      const step = stepper(ctx, 5, 97, total, 'Uploaded');
      const stored = new Map(present);
      for (const o of upload) {
        ctx.log(`uploading ${o.key} (${o.name}, ${MiB(o.size)})`);
        stored.set(o.key, await uploadFile(t.store, o.key, o.file, o.sha256, step, ctx.signal));
      }
      const chunksOf = new Map<string, Chunk[]>();
      let chunksSent = 0;
      let chunkBytes = 0;
      // Skipped: chunks the target held before this backup (a chunk repeated within this one is sent once, not "skipped").
      const heldBefore = new Set(chunksThere.keys());
      const skippedChunks = new Set<string>();
      for (const f of chunked) {
        const r = await uploadChunked(t.store, f.file, f.sha256, chunksThere, step, ctx.signal);
        chunksOf.set(f.name, r.chunks);
        const nonzero = r.chunks.filter((c) => c.sha256).length;
        const zeros = r.chunks.length - nonzero;
        const kept = nonzero - r.sent;
        ctx.log(`${f.name} (${MiB(f.size)}): ${zeros} chunks of zeros, ${r.sent} sent (${MiB(r.sentBytes)}), ${kept} on the target already or repeated`);
        chunksSent += r.sent;
        chunkBytes += r.sentBytes;
        for (const c of r.chunks) if (c.sha256 && heldBefore.has(chunkKey(c.sha256))) skippedChunks.add(c.sha256);
      }
      const chunksSkipped = skippedChunks.size;
      const id = newBackupId(this.now());
      const ms = await listMachines(this.store);
      const machine = ms.find((m) => m.id === snap.machineId);
      const manifest: BackupManifest = {
        format: BACKUP_FORMAT,
        id,
        createdAt: this.now(),
        scheduleId,
        machine: machine ? { id: machine.id, name: machine.name } : null,
        snapshot: { id: snap.id, label: snap.label, kind: snap.kind, createdAt: snap.createdAt, pauseMs: snap.pauseMs },
        driver: snap.driver,
        image: snap.image,
        spec: JSON.parse(snap.specJson) as Record<string, unknown>,
        files: files.map((f) => {
          const chunks = chunksOf.get(f.name);
          if (chunks) return { name: f.name, sha256: f.sha256, size: f.size, stored: chunks.reduce((a, c) => a + c.stored, 0), chunks };
          return { name: f.name, sha256: f.sha256, size: f.size, stored: stored.get(f.key) ?? 0 };
        }),
        layers: layers.map((l) => ({ sha256: l.sha256, size: l.size, stored: stored.get(l.key) ?? 0 })),
        ...(disks.length
          ? {
              disks: disks.map((d) => ({
                member: d.member,
                layers: d.layers.map((l) => ({ sha256: l.sha256, size: l.size, stored: stored.get(l.key) ?? 0 })),
              })),
            }
          : {}),
        ...(volumes.length ? { volumes: volumes.map((v) => ({ member: v.member, sha256: v.sha256, size: v.size, stored: stored.get(v.key) ?? 0 })) } : {}),
      };
      // Last: until the manifest is there, the backup does not exist.
      await t.store.put(manifestKey(id), Readable.from([Buffer.from(JSON.stringify(manifest, null, 2) + '\n')]), ctx.signal);
      const uploadedBytes = upload.reduce((a, o) => a + (stored.get(o.key) ?? 0), 0) + chunkBytes;
      const uploadedLayers = upload.filter((o) => o.key.startsWith('layers/'));
      const uploadedLayerBytes = uploadedLayers.reduce((a, o) => a + (stored.get(o.key) ?? 0), 0);
      ctx.log(`backup ${id}: ${upload.length + chunksSent} objects uploaded (${MiB(uploadedBytes)} stored), ${skip.length + chunksSkipped} already there`);
      return {
        backup: id,
        target: t.row.name,
        uploadedObjects: upload.length + chunksSent,
        uploadedBytes,
        uploadedLayers: uploadedLayers.length,
        uploadedLayerBytes,
        skippedObjects: skip.length + chunksSkipped,
        sizeBytes: total,
      };
    });
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
