import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Feature } from '@/lib/contracts/drivers';
import { driverKindSchema, type DriverKind } from '@/lib/contracts/machines';
import { snapshotKinds } from '@/lib/contracts/snapshots';
import type { Store } from '@/db/client';
import { insertSnapshot, type SnapshotInsert, type SnapshotRow } from '@/db/repo/snapshots';
import { firstLine, run } from '@/server/drivers/exec';
import { diskUsage } from '@/server/drivers/shared/disk-usage';
import type { SnapshotArchiver } from '@/server/drivers/types';
import { addChecksums, readChecksums, verifyChecksums } from './checksums';
import { BadRequestError, ConflictError } from './errors';
import { newId } from './ids';
import { resolveInside } from './paths';

/**
 * A snapshot as one tar file, for moving it to another host: a manifest, checksums, and what its
 * driver's archiver puts in (for QEMU: state, RAM, SSH identity, and the disk flattened into one
 * standalone file). The other host needs an image of the same name for the kernel.
 */
export const ARCHIVE_FORMAT = 'hangar-snapshot/1';
const OWN = ['manifest.json', 'SHA256SUMS'];

const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  label: z.string().max(120),
  kind: z.enum(snapshotKinds),
  driver: driverKindSchema,
  image: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  /** What the driver recorded of the machine (its archiver checks it). */
  spec: z.record(z.string(), z.unknown()),
  pauseMs: z.number().int().nonnegative().nullable(),
  createdAt: z.number().int().nonnegative(),
});
export type ArchiveManifest = z.infer<typeof manifestSchema>;
type Manifest = ArchiveManifest;

/** Write the archive of `snap` to `out` (a file under the data dir's tmp), staging in `work`. */
async function exportSnapshot(snap: SnapshotRow, archiver: SnapshotArchiver, work: string, out: string): Promise<void> {
  fs.mkdirSync(work, { recursive: true, mode: 0o700 });
  try {
    await addChecksums(snap.path, archiver.summed);
    for (const m of ['SHA256SUMS', ...archiver.members]) {
      const from = path.join(snap.path, m);
      if (fs.existsSync(from)) fs.linkSync(from, path.join(work, m));
    }
    const record = JSON.parse(snap.specJson) as Record<string, unknown>;
    await archiver.flatten(snap.diskPath, path.join(work, archiver.disk), record);
    // Each extra disk (a VM's) flattened the same way, a member of its own.
    const extras = archiver.extraDisks?.of(record) ?? [];
    for (const x of extras) await archiver.flatten(x.frozen, path.join(work, x.member));
    // Each container volume's contents (the snapshot's copy) a tar member of its own.
    const volumes = archiver.volumes?.of(snap.path, record) ?? [];
    for (const v of volumes) await archiver.volumes!.pack(v.dir, path.join(work, v.member));
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      label: snap.label,
      kind: snap.kind,
      driver: snap.driver as DriverKind,
      image: snap.image,
      spec: JSON.parse(snap.specJson),
      pauseMs: snap.pauseMs,
      createdAt: snap.createdAt,
    };
    fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    // The staged sums file is a link to the snapshot's: drop it so the original is never rewritten.
    const sums = fs.readFileSync(path.join(work, 'SHA256SUMS'), 'utf8');
    fs.rmSync(path.join(work, 'SHA256SUMS'));
    fs.writeFileSync(path.join(work, 'SHA256SUMS'), sums);
    const added = [archiver.disk, ...extras.map((x) => x.member), ...volumes.map((v) => v.member)];
    await addChecksums(work, [...added, 'manifest.json']);
    const members = [...OWN, ...archiver.members, ...added].filter((m) => fs.existsSync(path.join(work, m)));
    const tar = await run(['tar', '--sparse', '-C', work, '-cf', out, '--', ...members], { timeoutMs: 30 * 60_000 });
    if (tar.code !== 0) throw new Error(`tar failed: ${firstLine(tar.stderr)}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpack and check an uploaded archive in `work`: only known regular files, a valid manifest of
 * a driver with archives here, every checksum right, and the driver's own checks of its files
 * (for QEMU: a complete state file, a standalone qcow2 disk with no backing or data file that
 * could point anywhere on this host).
 */
async function unpackSnapshot(
  archive: string,
  work: string,
  archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined,
  known: (member: string) => boolean,
) {
  fs.mkdirSync(work, { recursive: true, mode: 0o700 });
  const bad = (msg: string) => new BadRequestError(`Not a Hangar snapshot archive: ${msg}.`);
  const tar = await run(['tar', '-C', work, '--no-same-owner', '--no-same-permissions', '-xf', archive], { timeoutMs: 30 * 60_000 });
  if (tar.code !== 0) throw bad(`tar could not unpack it (${firstLine(tar.stderr) || `exit ${tar.code}`})`);
  return checkUnpacked(work, archiverOf, known);
}

/** The checks of an unpacked archive's files in `work` (see unpackSnapshot), whoever put them there. */
async function checkUnpacked(work: string, archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined, known: (member: string) => boolean) {
  const bad = (msg: string) => new BadRequestError(`Not a Hangar snapshot archive: ${msg}.`);
  for (const e of fs.readdirSync(work)) {
    const st = fs.lstatSync(path.join(work, e));
    if (!known(e) || !st.isFile() || st.nlink !== 1) throw bad(`unexpected member "${e.slice(0, 80)}"`);
  }
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(fs.readFileSync(path.join(work, 'manifest.json'), 'utf8')));
  } catch (err) {
    throw bad(err instanceof z.ZodError ? `manifest: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` : 'no readable manifest.json');
  }
  const archiver = archiverOf(manifest.driver);
  if (!archiver) throw bad(`${manifest.driver} snapshots have no archive format here`);
  const extraMembers = archiver.extraDisks?.members ?? [];
  for (const e of fs.readdirSync(work))
    if (![...OWN, ...archiver.members, archiver.disk, ...extraMembers].includes(e) && !archiver.volumes?.nameOf(e))
      throw bad(`unexpected member "${e.slice(0, 80)}"`);
  let extras: string[];
  try {
    manifest.spec = archiver.checkRecord(manifest.spec);
    extras = (archiver.extraDisks?.of(manifest.spec) ?? []).map((x) => x.member);
  } catch (err) {
    throw bad(`manifest: ${(err as Error).message}`);
  }
  // Exactly the extra disks the record names, each once.
  if (new Set(extras).size !== extras.length) throw bad('manifest: two extra disks share one member');
  for (const e of extraMembers)
    if (extras.includes(e) !== fs.existsSync(path.join(work, e))) throw bad(`extra disk ${e} ${extras.includes(e) ? 'is missing' : 'is not in the manifest'}`);
  const live = manifest.kind === 'live';
  const volumes = fs.readdirSync(work).filter((e) => archiver.volumes?.nameOf(e));
  const required = [archiver.disk, ...extras, ...volumes, 'manifest.json', ...(live ? archiver.liveRequired : [])];
  await verifyChecksums(work, undefined, required).catch((err: Error) => {
    throw bad(err.message);
  });
  await archiver.check(work, live).catch((err: Error) => {
    throw bad(err.message);
  });
  // Volumes (verified above): unpacked into the snapshot's own copies, their members and sums gone.
  if (volumes.length)
    await archiver.volumes!.unpack(work, manifest.spec).catch((err: Error) => {
      throw bad(err.message);
    });
  const sums = readChecksums(work);
  for (const v of volumes) sums.delete(v);
  fs.writeFileSync(path.join(work, 'SHA256SUMS'), [...sums].map(([n, hex]) => `${hex}  ${n}\n`).join(''), { mode: 0o600 });
  fs.rmSync(path.join(work, 'manifest.json'));
  return { manifest, archiver };
}

/** Export `snap` to a new archive file in `tmp`; returns it and a download name. */
export async function exportToFile(
  snap: SnapshotRow,
  can: Feature,
  archiver: SnapshotArchiver | undefined,
  tmp: string,
): Promise<{ file: string; name: string }> {
  if (!can.available || !archiver) throw new ConflictError(can.reason ?? `Export of ${snap.driver} snapshots is not available.`);
  const file = path.join(tmp, `export-${newId('snp').slice(4)}.tar`);
  try {
    await exportSnapshot(snap, archiver, `${file}.d`, file);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return { file, name: `${snap.label.replace(/[^\w.-]+/g, '-').slice(0, 60) || snap.id}.hangar.tar` };
}

/** Unpack, check and record an archive as a new root snapshot; returns its id. Nothing stays behind on failure. */
export async function importFromFile(
  store: Store,
  dirs: { snapshots: string; layers: string },
  archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined,
  archive: string,
  now: number,
): Promise<string> {
  return importInto(store, dirs, archiverOf, now, (work, known) => unpackSnapshot(archive, work, archiverOf, known));
}

/**
 * As importFromFile, for archive members that `fill` writes into the work dir (a restore from a
 * backup downloads them there): checked the same way, nothing left behind on failure.
 */
export async function importFilled(
  store: Store,
  dirs: { snapshots: string; layers: string },
  archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined,
  fill: (work: string) => Promise<void>,
  now: number,
): Promise<string> {
  return importInto(store, dirs, archiverOf, now, async (work, known) => {
    fs.mkdirSync(work, { recursive: true, mode: 0o700 });
    await fill(work);
    return checkUnpacked(work, archiverOf, known);
  });
}

async function importInto(
  store: Store,
  dirs: { snapshots: string; layers: string },
  archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined,
  now: number,
  unpack: (work: string, known: (member: string) => boolean) => Promise<{ manifest: Manifest; archiver: SnapshotArchiver }>,
): Promise<string> {
  const id = newId('snp');
  const work = resolveInside(dirs.snapshots, `.${id}.import`);
  const dir = resolveInside(dirs.snapshots, id);
  let made: string[] = [];
  try {
    const { manifest, archiver } = await unpack(work, knownMembers(archiverOf));
    const placed = await placeDisks(work, manifest, archiver, dirs.layers, `${id}-imported`, made);
    made = placed.made;
    fs.renameSync(work, dir);
    const sizeBytes = archiver.summed.reduce((a, f) => a + diskUsage(path.join(dir, f)), 0) + made.reduce((a, f) => a + diskUsage(f), 0);
    await insertSnapshot(store, importedRow(placed.manifest, { id, dir, disk: placed.disk, sizeBytes, now }));
    return id;
  } catch (err) {
    for (const p of [work, dir, ...made]) if (p) fs.rmSync(p, { recursive: true, force: true });
    throw err;
  }
}

/** Any member any driver's archives have: the manifest then says which driver, and its archiver which members. */
function knownMembers(archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined): (member: string) => boolean {
  const archivers = driverKindSchema.options.map((k) => archiverOf(k)).filter((a): a is SnapshotArchiver => !!a);
  const names = new Set([...OWN, ...archivers.flatMap((a) => [...a.members, a.disk, ...(a.extraDisks?.members ?? [])])]);
  return (e: string) => names.has(e) || archivers.some((a) => a.volumes?.nameOf(e));
}

/**
 * The unpacked archive's disks out of `work` into `layers` (named `stem`...), made what the
 * driver's machines stand on; `made` collects every path written (the caller removes them on failure).
 */
async function placeDisks(work: string, manifest: Manifest, archiver: SnapshotArchiver, layers: string, stem: string, made: string[]) {
  let disk = path.join(layers, `${stem}${path.extname(archiver.disk)}`);
  fs.mkdirSync(layers, { recursive: true, mode: 0o700 });
  fs.renameSync(path.join(work, archiver.disk), disk);
  made.push(disk);
  // A driver whose layers are no single file makes its own of the archive's disk.
  if (archiver.adopt) {
    const a = await archiver.adopt(disk, manifest.spec);
    [disk, manifest.spec] = [a.disk, a.record];
    made.push(...a.made);
  }
  // Extra disks: into the layers dir beside the root disk, the record naming them there (never the other host's paths).
  if (archiver.extraDisks) {
    const files = new Map<string, string>();
    for (const x of archiver.extraDisks.of(manifest.spec)) {
      const file = path.join(layers, `${stem}-${x.member}`);
      fs.renameSync(path.join(work, x.member), file);
      made.push(file);
      files.set(x.member, file);
    }
    manifest.spec = archiver.extraDisks.place(manifest.spec, files);
  }
  return { disk, manifest, made };
}

/** A replica's files as a fork on this node uses them in place of the snapshot's own. */
export interface ReplicaFiles {
  /** The snapshot's files (state, RAM, sums...). */
  path: string;
  /** Its frozen layer. */
  diskPath: string;
  specJson: string;
  bytes: number;
}

/**
 * A snapshot's archive (whole, in `archive`) made a replica in `dir`: unpacked and checked as an
 * import is (checksums, the driver's checks) in `work` (a temp dir the caller made), then renamed
 * to `dir` only when whole; the disks go under `dir`/layers. The snapshot's row is not touched
 * (the caller records the copy). On failure nothing stays at `dir`.
 */
export async function unpackReplica(
  archive: string,
  work: string,
  dir: string,
  archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined,
): Promise<ReplicaFiles> {
  try {
    const { manifest, archiver } = await unpackSnapshot(archive, work, archiverOf, knownMembers(archiverOf));
    fs.renameSync(work, dir);
    const made: string[] = [];
    const placed = await placeDisks(dir, manifest, archiver, path.join(dir, 'layers'), 'frozen', made);
    const bytes = diskUsage(dir);
    return { path: dir, diskPath: placed.disk, specJson: JSON.stringify(placed.manifest.spec), bytes };
  } catch (err) {
    for (const p of [work, dir]) fs.rmSync(p, { recursive: true, force: true });
    throw err;
  }
}

/** The row of an imported snapshot: a new root of the tree, from no machine of this host. */
function importedRow(m: Manifest, v: { id: string; dir: string; disk: string; sizeBytes: number; now: number }): SnapshotInsert {
  return {
    id: v.id,
    parentId: null,
    machineId: null,
    kind: m.kind,
    state: 'complete',
    label: `${m.label} (imported)`.slice(0, 120),
    sizeBytes: v.sizeBytes,
    pauseMs: m.pauseMs,
    path: v.dir,
    createdAt: v.now,
    driver: m.driver,
    image: m.image,
    diskPath: v.disk,
    specJson: JSON.stringify(m.spec),
  };
}
