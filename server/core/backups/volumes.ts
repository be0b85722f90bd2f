import fs from 'node:fs';
import path from 'node:path';
import type { SnapshotRow } from '@/db/repo/snapshots';
import type { SnapshotArchiver } from '@/server/drivers/types';
import { sha256File } from '../checksums';
import { ConflictError } from '../errors';
import { blobKey, type BackupManifest } from './manifest';
import type { ObjectStore } from './object-store';
import { downloadFile } from './transfer';

/**
 * Container volumes in backups: each volume's contents (the snapshot's copy) packed into `tmp` as
 * one tar, uploaded as a blob (the same bytes for an unchanged volume: sent once). A backup made
 * before volumes travelled has none: its machines get them empty.
 */
export async function volumeBlobs(archiver: SnapshotArchiver, snap: SnapshotRow, tmp: string) {
  const out = [];
  for (const v of archiver.volumes?.of(snap.path, JSON.parse(snap.specJson) as Record<string, unknown>) ?? []) {
    const file = path.join(tmp, v.member);
    await archiver.volumes!.pack(v.dir, file);
    const sha256 = await sha256File(file);
    out.push({ name: v.member, member: v.member, file, sha256, size: fs.statSync(file).size, key: blobKey(sha256) });
  }
  return out;
}

/** Before a restore downloads anything: every volume member is one this driver's archives have. */
export function checkVolumeMembers(m: BackupManifest, archiver: SnapshotArchiver): void {
  for (const v of m.volumes ?? []) if (!archiver.volumes?.nameOf(v.member)) throw new ConflictError(`Backup ${m.id}: unexpected volume "${v.member}".`);
}

/** Each volume's tar downloaded and checked (size, SHA-256) into `work` as its archive member; returns the members. */
export async function downloadVolumes(store: ObjectStore, m: BackupManifest, work: string, step: (n: number) => void, signal?: AbortSignal) {
  for (const v of m.volumes ?? []) await downloadFile(store, blobKey(v.sha256), path.join(work, v.member), v, step, signal);
  return (m.volumes ?? []).map((v) => v.member);
}
