import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { BACKUP_ID_PATTERN, type Backup } from '@/lib/contracts/backups';
import { chunkKey } from './chunks';

/**
 * A backup on a target is a small manifest (`backups/ID.json`) naming content-addressed objects:
 * the snapshot's files (`blobs/SHA256`: state, RAM, SSH identity) and each frozen disk layer
 * (`layers/SHA256`), bottom first, each stored gzip-compressed and named by the SHA-256 of its
 * uncompressed bytes. A layer already on the target (an earlier backup of the same machine) is
 * not uploaded again. The manifest is written last: a backup without one does not exist.
 */
export const BACKUP_FORMAT = 'hangar-backup/1';

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);
const objectSchema = z.object({ sha256: sha256Schema, size: z.number().int().nonnegative(), stored: z.number().int().nonnegative() });
export type StoredObject = z.infer<typeof objectSchema>;

export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  id: z.string().regex(BACKUP_ID_PATTERN),
  createdAt: z.number().int().nonnegative(),
  scheduleId: z.string().max(64).nullable(),
  machine: z.object({ id: z.string().max(64), name: z.string().max(63) }).nullable(),
  snapshot: z.object({
    id: z.string().max(64),
    label: z.string().max(120),
    kind: z.enum(['live', 'disk']),
    createdAt: z.number().int().nonnegative(),
    pauseMs: z.number().int().nonnegative().nullable(),
  }),
  driver: z.string().regex(/^[a-z0-9-]{1,32}$/),
  image: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  spec: z.record(z.string(), z.unknown()),
  /** The snapshot's files by archive member name; a large one (RAM) as chunks (`chunks/SHA256`, null: zeros) instead of one blob. */
  files: z
    .array(
      objectSchema.extend({
        name: z.string().regex(/^[A-Za-z0-9_][\w.-]{0,63}$/),
        chunks: z
          .array(z.object({ sha256: sha256Schema.nullable(), size: z.number().int().positive(), stored: z.number().int().nonnegative() }))
          .max(1 << 20)
          .optional(),
      }),
    )
    .max(32),
  /** The disk, bottom layer (the image's) first. */
  layers: z.array(objectSchema).min(1).max(512),
  /** Extra disks (a VM's), by archive member name: each one's layers, bottom first. */
  disks: z
    .array(z.object({ member: z.string().regex(/^[A-Za-z0-9_][\w.-]{0,63}$/), layers: z.array(objectSchema).min(1).max(512) }))
    .max(16)
    .optional(),
  /** Container volumes: each one's contents as a tar (`blobs/SHA256`) by archive member name. Older backups have none. */
  volumes: z
    .array(objectSchema.extend({ member: z.string().regex(/^volume-[a-z0-9][a-z0-9-]{0,31}\.tar$/) }))
    .max(64)
    .optional(),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export const blobKey = (sha: string) => `blobs/${sha}`;
export const layerKey = (sha: string) => `layers/${sha}`;
export const manifestKey = (id: string) => `backups/${id}.json`;
export const MANIFESTS = 'backups/';

export const newBackupId = (now: number) => `bk-${String(now).padStart(13, '0')}-${randomBytes(5).readUIntBE(0, 5).toString(36).padStart(8, '0').slice(-8)}`;

/** The id in a manifest's key, or null for anything else under `backups/`. */
export function idOfManifestKey(key: string): string | null {
  const m = /^backups\/(bk-[0-9]{13}-[a-z0-9]{8})\.json$/.exec(key);
  return m ? m[1] : null;
}

/** Every object key a manifest stands on. */
export function keysOf(m: Pick<BackupManifest, 'files' | 'layers' | 'disks' | 'volumes'>): string[] {
  const files = m.files.flatMap((f) => (f.chunks ? f.chunks.flatMap((c) => (c.sha256 ? [chunkKey(c.sha256)] : [])) : [blobKey(f.sha256)]));
  return [...files, ...(m.volumes ?? []).map((v) => blobKey(v.sha256)), ...allLayers(m).map((l) => layerKey(l.sha256))];
}

/** The root disk's layers and every extra disk's. */
export const allLayers = (m: Pick<BackupManifest, 'layers' | 'disks'>): StoredObject[] => [...m.layers, ...(m.disks ?? []).flatMap((d) => d.layers)];

/**
 * What a new backup must upload: each distinct key once, and none the target already holds.
 * `present` maps keys found on the target to their stored size.
 */
export function planUpload<T extends { key: string }>(wanted: T[], present: Map<string, number>): { upload: T[]; skip: T[] } {
  const seen = new Set<string>();
  const upload: T[] = [];
  const skip: T[] = [];
  for (const w of wanted) {
    if (seen.has(w.key)) continue;
    seen.add(w.key);
    (present.has(w.key) ? skip : upload).push(w);
  }
  return { upload, skip };
}

/** Objects (under blobs/ and layers/) that no manifest names: what deleting backups frees. */
export function unreferenced(manifests: Pick<BackupManifest, 'files' | 'layers' | 'disks' | 'volumes'>[], stored: { key: string }[]): string[] {
  const used = new Set(manifests.flatMap(keysOf));
  return stored.map((s) => s.key).filter((k) => /^(blobs|layers|chunks)\//.test(k) && !used.has(k));
}

/** A schedule's backups of one machine on a target beyond its newest `keep` (a tag's schedule keeps N of each machine): the ones to delete. */
export function beyondKeep(
  manifests: Pick<BackupManifest, 'id' | 'createdAt' | 'scheduleId' | 'machine'>[],
  scheduleId: string,
  machineId: string | null,
  keep: number,
): string[] {
  return manifests
    .filter((m) => m.scheduleId === scheduleId && (m.machine?.id ?? null) === machineId)
    .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id))
    .slice(Math.max(keep, 1))
    .map((m) => m.id);
}

export function toBackup(m: BackupManifest, targetId: string): Backup {
  return {
    id: m.id,
    targetId,
    machineId: m.machine?.id ?? null,
    machineName: m.machine?.name ?? null,
    snapshotId: m.snapshot.id,
    snapshotLabel: m.snapshot.label,
    kind: m.snapshot.kind,
    driver: m.driver,
    image: m.image,
    scheduleId: m.scheduleId,
    createdAt: m.createdAt,
    snapshotCreatedAt: m.snapshot.createdAt,
    sizeBytes: [...m.files, ...(m.volumes ?? []), ...allLayers(m)].reduce((a, o) => a + o.size, 0),
    storedBytes: [...m.files, ...(m.volumes ?? []), ...allLayers(m)].reduce((a, o) => a + o.stored, 0),
    layers: m.layers.length,
  };
}
