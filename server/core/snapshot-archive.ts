import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { snapshotKinds } from '@/lib/contracts/snapshots';
import type { Store } from '@/db/client';
import { insertSnapshot, type SnapshotInsert, type SnapshotRow } from '@/db/repo/snapshots';
import { firstLine, run } from '@/server/drivers/exec';
import { checkStateFile } from '@/server/drivers/qemu/snapshot';
import { addChecksums, verifyChecksums } from './checksums';
import { BadRequestError, ConflictError } from './errors';
import { newId } from './ids';
import { diskUsage, resolveInside } from './paths';

/**
 * A snapshot as one tar file, for moving it to another host: its state, RAM, SSH identity and
 * checksums, its disk flattened into one standalone qcow2 (the chain of layers and the image
 * below it), and a manifest. The other host needs an image of the same name for the kernel.
 */
export const ARCHIVE_FORMAT = 'hangar-snapshot/1';
const MEMBERS = ['manifest.json', 'SHA256SUMS', 'state', 'ram', 'disk.qcow2', 'id_ed25519', 'id_ed25519.pub', 'ssh_host_key.sha256'];

const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  label: z.string().max(120),
  kind: z.enum(snapshotKinds),
  driver: z.enum(['qemu']),
  image: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  spec: z.object({
    cpus: z.number().int().min(1).max(64),
    memoryMib: z
      .number()
      .int()
      .min(64)
      .max(1 << 20),
    diskGib: z.number().int().min(1).max(4096),
    ssh: z.boolean(),
  }),
  pauseMs: z.number().int().nonnegative().nullable(),
  createdAt: z.number().int().nonnegative(),
});

/** Write the archive of `snap` to `out` (a file under the data dir's tmp), staging in `work`. */
async function exportSnapshot(snap: SnapshotRow, work: string, out: string): Promise<void> {
  fs.mkdirSync(work, { recursive: true, mode: 0o700 });
  try {
    await addChecksums(snap.path, ['state', 'ram']);
    for (const m of MEMBERS) {
      const from = path.join(snap.path, m);
      if (fs.existsSync(from)) fs.linkSync(from, path.join(work, m));
    }
    const flat = await run(['qemu-img', 'convert', '-O', 'qcow2', snap.diskPath, path.join(work, 'disk.qcow2')], { timeoutMs: 30 * 60_000 });
    if (flat.code !== 0) throw new Error(`flattening the disk failed: ${firstLine(flat.stderr)}`);
    const manifest = {
      format: ARCHIVE_FORMAT,
      label: snap.label,
      kind: snap.kind,
      driver: snap.driver,
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
    await addChecksums(work, ['disk.qcow2', 'manifest.json']);
    const members = MEMBERS.filter((m) => fs.existsSync(path.join(work, m)));
    const tar = await run(['tar', '--sparse', '-C', work, '-cf', out, '--', ...members], { timeoutMs: 30 * 60_000 });
    if (tar.code !== 0) throw new Error(`tar failed: ${firstLine(tar.stderr)}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpack and check an uploaded archive in `work`: only known regular files, a valid manifest,
 * every checksum right, a complete state file, and a standalone qcow2 disk (no backing or
 * external data file that could point anywhere on this host). Returns the row to insert once
 * the caller has moved the files into place.
 */
async function unpackSnapshot(archive: string, work: string): Promise<{ manifest: z.infer<typeof manifestSchema> }> {
  fs.mkdirSync(work, { recursive: true, mode: 0o700 });
  const bad = (msg: string) => new BadRequestError(`Not a Hangar snapshot archive: ${msg}.`);
  const tar = await run(['tar', '-C', work, '--no-same-owner', '--no-same-permissions', '-xf', archive], { timeoutMs: 30 * 60_000 });
  if (tar.code !== 0) throw bad(`tar could not unpack it (${firstLine(tar.stderr) || `exit ${tar.code}`})`);
  for (const e of fs.readdirSync(work)) {
    const st = fs.lstatSync(path.join(work, e));
    if (!MEMBERS.includes(e) || !st.isFile() || st.nlink !== 1) throw bad(`unexpected member "${e.slice(0, 80)}"`);
  }
  let manifest: z.infer<typeof manifestSchema>;
  try {
    manifest = manifestSchema.parse(JSON.parse(fs.readFileSync(path.join(work, 'manifest.json'), 'utf8')));
  } catch (err) {
    throw bad(err instanceof z.ZodError ? `manifest: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` : 'no readable manifest.json');
  }
  const live = manifest.kind === 'live';
  await verifyChecksums(work, undefined, ['disk.qcow2', 'manifest.json', ...(live ? ['state'] : [])]).catch((err: Error) => {
    throw bad(err.message);
  });
  if (live) {
    try {
      checkStateFile(path.join(work, 'state'));
    } catch (err) {
      throw bad((err as Error).message.replace(work + '/', ''));
    }
  }
  const info = await run(['qemu-img', 'info', '--output=json', path.join(work, 'disk.qcow2')], { timeoutMs: 30_000 });
  const disk =
    info.code === 0
      ? (JSON.parse(info.stdout) as { format?: string; 'backing-filename'?: string; 'format-specific'?: { data?: { 'data-file'?: string } } })
      : null;
  if (!disk || disk.format !== 'qcow2') throw bad('disk.qcow2 is not a qcow2 image');
  if (disk['backing-filename'] || disk['format-specific']?.data?.['data-file']) throw bad('disk.qcow2 refers to other files');
  fs.rmSync(path.join(work, 'manifest.json'));
  return { manifest };
}

/** Export `snap` to a new archive file in `tmp`; returns it and a download name. */
export async function exportToFile(snap: SnapshotRow, tmp: string): Promise<{ file: string; name: string }> {
  if (snap.driver !== 'qemu') throw new ConflictError(`Export of ${snap.driver} snapshots is not available yet (QEMU snapshots only).`);
  const file = path.join(tmp, `export-${newId('snp').slice(4)}.tar`);
  try {
    await exportSnapshot(snap, `${file}.d`, file);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return { file, name: `${snap.label.replace(/[^\w.-]+/g, '-').slice(0, 60) || snap.id}.hangar.tar` };
}

/** Unpack, check and record an archive as a new root snapshot; returns its id. Nothing stays behind on failure. */
export async function importFromFile(store: Store, dirs: { snapshots: string; layers: string }, archive: string, now: number): Promise<string> {
  const id = newId('snp');
  const work = resolveInside(dirs.snapshots, `.${id}.import`);
  const dir = resolveInside(dirs.snapshots, id);
  const disk = path.join(dirs.layers, `${id}-imported.qcow2`);
  try {
    const { manifest } = await unpackSnapshot(archive, work);
    fs.mkdirSync(dirs.layers, { recursive: true, mode: 0o700 });
    fs.renameSync(path.join(work, 'disk.qcow2'), disk);
    fs.renameSync(work, dir);
    const sizeBytes = ['state', 'ram'].reduce((a, f) => a + diskUsage(path.join(dir, f)), diskUsage(disk));
    await insertSnapshot(store, importedRow(manifest, { id, dir, disk, sizeBytes, now }));
    return id;
  } catch (err) {
    for (const p of [work, dir, disk]) fs.rmSync(p, { recursive: true, force: true });
    throw err;
  }
}

/** The row of an imported snapshot: a new root of the tree, from no machine of this host. */
function importedRow(m: z.infer<typeof manifestSchema>, v: { id: string; dir: string; disk: string; sizeBytes: number; now: number }): SnapshotInsert {
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
