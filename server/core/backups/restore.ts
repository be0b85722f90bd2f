import fs from 'node:fs';
import path from 'node:path';
import type { DriverKind } from '@/lib/contracts/machines';
import type { SnapshotArchiver } from '@/server/drivers/types';
import { addChecksums } from '../checksums';
import type { JobContext } from '../jobs';
import { ARCHIVE_FORMAT, type ArchiveManifest } from '../snapshot-archive';
import { downloadChunked } from './chunks';
import { blobKey, layerKey, type BackupManifest } from './manifest';
import type { ObjectStore } from './object-store';
import { downloadFile } from './transfer';
import { downloadVolumes } from './volumes';

/**
 * A backup's objects into a snapshot's work dir as an unpacked archive would leave them: each
 * file and layer downloaded and checked, the layers joined into the archive's disk, the archive
 * manifest and sums written (the snapshot service then checks the whole as it checks an import).
 */
export async function fillFromBackup(
  store: ObjectStore,
  m: BackupManifest,
  archiver: SnapshotArchiver,
  work: string,
  step: (n: number) => void,
  ctx: JobContext,
): Promise<void> {
  for (const f of m.files) {
    const out = path.join(work, f.name);
    if (f.chunks) await downloadChunked(store, out, { sha256: f.sha256, size: f.size, chunks: f.chunks }, step, ctx.signal);
    else await downloadFile(store, blobKey(f.sha256), out, f, step, ctx.signal);
  }
  const dir = path.join(work, '.layers');
  fs.mkdirSync(dir, { mode: 0o700 });
  const layers: string[] = [];
  for (const [i, l] of m.layers.entries()) {
    layers.push(path.join(dir, `${i}.layer`));
    await downloadFile(store, layerKey(l.sha256), layers[i], l, step, ctx.signal);
  }
  const extras: string[] = [];
  const disks = [];
  for (const [i, d] of (m.disks ?? []).entries()) {
    const files = [];
    for (const [j, l] of d.layers.entries()) {
      files.push(path.join(dir, `x${i}-${j}.layer`));
      await downloadFile(store, layerKey(l.sha256), files[j], l, step, ctx.signal);
    }
    disks.push({ member: d.member, files });
  }
  const volumes = await downloadVolumes(store, m, work, step, ctx.signal);
  ctx.progress(82, 'Joining the disk layers');
  await archiver.join!(layers, path.join(work, archiver.disk));
  // Extra disks: each joined into its archive member (the import then checks that the record names exactly these).
  for (const d of disks) {
    await archiver.join!(d.files, path.join(work, d.member));
    extras.push(d.member);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const am: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    label: `${m.snapshot.label} (backup ${m.id})`.slice(0, 120),
    kind: m.snapshot.kind,
    driver: m.driver as DriverKind,
    image: m.image,
    spec: m.spec,
    pauseMs: m.snapshot.pauseMs,
    createdAt: m.snapshot.createdAt,
  };
  fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(am, null, 2) + '\n');
  fs.writeFileSync(path.join(work, 'SHA256SUMS'), m.files.map((f) => `${f.sha256}  ${f.name}\n`).join(''), { mode: 0o600 });
  await addChecksums(work, [archiver.disk, ...extras, ...volumes, 'manifest.json']);
  ctx.progress(90, 'Checking the restored snapshot');
}
