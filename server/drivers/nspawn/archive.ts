import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ociProcessSchema } from '../oci/bundle';
import { firstLine, run } from '../exec';
import { checkRootfsTar, KEEP_ROOTFS, rootfsArchive, tar } from '../shared/rootfs-tar';
import { archivedVolumesSchema } from '../shared/volumes';
import { volumeArchiver } from '../shared/volume-archive';
import type { SnapshotArchiver } from '../types';
import { nspawnRuntime } from './runtime';

const KEEP = KEEP_ROOTFS;

/** What an nspawn snapshot's manifest may say about its container: no host paths (an import gets its own). */
const recordSchema = z.object({
  cpus: z.number().int().min(1).max(64).optional(),
  memoryMib: z.number().int().min(1).optional(),
  diskGib: z.number().int().min(1).optional(),
  ssh: z.boolean().optional(),
  network: z.enum(['private', 'nat', 'host']).optional(),
  command: z.array(z.string().max(4096)).max(256).nullable().optional(),
  /** Volumes: their contents are members of their own (volume-NAME.tar); one without (an older archive) starts empty. */
  volumes: archivedVolumesSchema,
  oci: ociProcessSchema.optional(),
});

/** Directories stacked as the container sees them (top first), as one tar of the merged tree: a read-only overlay mount of them. */
async function mergedTar(topFirst: string[], out: string): Promise<void> {
  if (topFirst.length === 1) return tar(['-C', topFirst[0], ...KEEP, '-cf', out, '.'], 'packing the root filesystem');
  const mnt = `${out}.mnt`;
  fs.mkdirSync(mnt, { mode: 0o700 });
  try {
    const m = await run(['mount', '-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${topFirst.join(':')}`, mnt], { timeoutMs: 60_000 });
    if (m.code !== 0) throw new Error(`mounting the container's layers failed: ${firstLine(m.stderr)}`);
    try {
      await tar(['-C', mnt, ...KEEP, '-cf', out, '.'], 'packing the root filesystem');
    } finally {
      await run(['umount', mnt], { timeoutMs: 60_000 });
    }
  } finally {
    fs.rmSync(mnt, { recursive: true, force: true });
  }
}

/** Every directory under a snapshot's frozen layer, bottom first: the image root, an OCI image's layers, the snapshots' layers, its own. */
function stack(frozen: string, record: Record<string, unknown>): string[] {
  const rec = nspawnRuntime(record);
  if (!rec.rootfs) throw new Error('the snapshot does not say which image root it was taken on');
  return [rec.rootfs, ...(rec.imageLayers ?? []), ...(rec.lowers ?? []), frozen];
}

const checkTar = (file: string) => checkRootfsTar(file, 'rootfs.tar');

/**
 * nspawn snapshot archives: the container's files as one root filesystem tar (the image root and
 * every layer above it merged), no memory (checkpoints keep files). An import unpacks it into a
 * layer of its own that is the new snapshot's root. Backups keep the layers apart (each a tar,
 * the same bytes for an unchanged layer) and join them again on restore.
 */
export const nspawnArchiver: SnapshotArchiver = {
  ...rootfsArchive(recordSchema),
  volumes: volumeArchiver,
  async flatten(frozen, out, record) {
    await mergedTar(stack(frozen, record ?? {}).reverse(), out);
  },
  async layerFiles(frozen, record, tmp) {
    const files: string[] = [];
    for (const [i, dir] of stack(frozen, record).entries()) {
      files.push(path.join(tmp, `${i}.tar`));
      // The same bytes for the same tree: names sorted, no access or change times.
      const pax = 'exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime';
      await tar(['-C', dir, ...KEEP, '--sort=name', '--format=posix', `--pax-option=${pax}`, '-cf', files[i], '.'], `packing layer ${i + 1}`);
    }
    return files;
  },
  async join(layers, out) {
    const dirs: string[] = [];
    try {
      for (const [i, layer] of layers.entries()) {
        await checkTar(layer);
        dirs.push(`${layer}.d`);
        fs.mkdirSync(dirs[i], { mode: 0o700 });
        await tar(['-C', dirs[i], ...KEEP, '-xpf', layer], `unpacking layer ${i + 1}`);
      }
      await mergedTar([...dirs].reverse(), out);
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  },
  async check(dir) {
    await checkTar(path.join(dir, 'rootfs.tar'));
  },
  async adopt(disk, record) {
    const root = disk.replace(/\.tar$/, '.root');
    const frozen = disk.replace(/\.tar$/, '.d');
    try {
      fs.mkdirSync(root, { mode: 0o755 });
      await tar(['-C', root, ...KEEP, '-xpf', disk], 'unpacking the root filesystem');
      fs.mkdirSync(frozen, { mode: 0o755 });
    } catch (err) {
      for (const p of [root, frozen]) fs.rmSync(p, { recursive: true, force: true });
      throw err;
    }
    fs.rmSync(disk, { force: true });
    // The unpacked tree is the image root of machines made from it; their own layers go above an empty frozen one.
    return { disk: frozen, record: { ...record, rootfs: root, lowers: [], imageLayers: [] }, made: [root, frozen] };
  },
};
