import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Store } from '@/db/client';
import { listMachines } from '@/db/repo/machines';
import type { SnapshotRow } from '@/db/repo/snapshots';
import type { SnapshotArchiver } from '@/server/drivers/types';
import { addChecksums, readChecksums, sha256File } from '../checksums';
import type { JobContext } from '../jobs';
import { BACKUP_FORMAT, blobKey, layerKey, manifestKey, newBackupId, planUpload, type BackupManifest } from './manifest';
import { CHUNK_BYTES, chunkKey, uploadChunked, type Chunk } from './chunks';
import type { OpenTarget } from './targets';
import { MiB, stepper, uploadFile } from './transfer';
import { volumeBlobs } from './volumes';

/** What one backup is made of: the snapshot, how its driver archives it, and where scratch files go. */
export interface BackupSource {
  store: Store;
  snap: SnapshotRow;
  archiver: SnapshotArchiver;
  /** The driver's disk chain of a frozen layer, top first. */
  chainOf: (frozen: string) => string[];
  /** Marks the backup for that schedule's keep-last-N on the target. */
  scheduleId: string | null;
  /** A scratch dir for drivers whose layers or volumes are no files (removed by the caller). */
  tmp: string | null;
  now: () => number;
}

/**
 * One backup onto an opened target: the snapshot's files, disk layers and volumes summed, what the
 * target lacks uploaded (large files in chunks), and the manifest written last (until it is there,
 * the backup does not exist).
 */
export async function uploadBackup(t: OpenTarget, src: BackupSource, ctx: JobContext) {
  const { snap, archiver, scheduleId, tmp } = src;
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
    : src.chainOf(snap.diskPath).reverse();
  const layerOf = async (file: string) => {
    const sha256 = await sha256File(file);
    return { name: path.basename(file), file, sha256, size: fs.statSync(file).size, key: layerKey(sha256) };
  };
  for (const file of layerFiles) layers.push(await layerOf(file));
  // Extra disks (a VM's): each frozen layer of each one's chain, bottom first, kept apart like the root disk's.
  const disks = [];
  for (const x of archiver.extraDisks?.of(JSON.parse(snap.specJson) as Record<string, unknown>) ?? [])
    disks.push({ member: x.member, layers: await Promise.all(src.chainOf(x.frozen).reverse().map(layerOf)) });
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
  const id = newBackupId(src.now());
  const ms = await listMachines(src.store);
  const machine = ms.find((m) => m.id === snap.machineId);
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    id,
    createdAt: src.now(),
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
}
