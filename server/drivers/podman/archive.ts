import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { pm } from './cli';
import { archivedVolumesSchema } from '../shared/volumes';
import { volumeArchiver } from '../shared/volume-archive';
import type { SnapshotArchiver } from '../types';
import { checkRootfsTar, KEEP_ROOTFS, rootfsArchive, tar } from '../shared/rootfs-tar';

const LONG_MS = 30 * 60_000;

/** What a podman snapshot's manifest may say about its container: no image names of this host (an import gets its own). */
const recordSchema = z.object({
  cpus: z.number().int().min(1).max(64).optional(),
  memoryMib: z.number().int().min(1).optional(),
  diskGib: z.number().int().min(1).optional(),
  ssh: z.boolean().optional(),
  network: z.enum(['private', 'host']).optional(),
  command: z.array(z.string().max(4096)).max(256).nullable().optional(),
  /** Volumes: their contents are members of their own (volume-NAME.tar); one without (an older archive) starts empty. */
  volumes: archivedVolumesSchema,
});

const manifestSchema = z.object({
  layers: z.array(z.object({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), mediaType: z.string() })).min(1),
});

const pmLong = (args: string[]) => pm(args, LONG_MS);

/**
 * The committed image's layers as podman stores them, bottom first: `podman save --format oci-dir
 * --uncompressed` writes each as a plain tar named by its digest, the same bytes for the same
 * layer in every save (the image root imported once, each commit's diff above it).
 */
async function savedLayers(ref: string, tmp: string): Promise<string[]> {
  const dir = path.join(tmp, 'oci');
  await pmLong(['save', '--format', 'oci-dir', '--uncompressed', '-o', dir, ref]);
  const blob = (digest: string) => path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = manifestSchema.parse(JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8')));
  return manifest.layers.map((l, i) => {
    if (!l.mediaType.endsWith('.tar')) throw new Error(`layer ${i + 1} of ${ref} is ${l.mediaType}, not a plain tar`);
    return blob(l.digest);
  });
}

/** Remove what an OCI whiteout names (`.wh.NAME`: NAME; `.wh..wh..opq`: all the lower layers put in its directory). */
function applyWhiteouts(root: string, members: string[]): void {
  for (const m of members) {
    const base = path.posix.basename(m);
    if (!base.startsWith('.wh.')) continue;
    const dir = path.join(root, path.posix.dirname(m));
    if (!dir.startsWith(root + path.sep) && dir !== root) throw new Error(`a whiteout outside the root: "${m.slice(0, 80)}"`);
    if (base === '.wh..wh..opq') {
      if (fs.existsSync(dir)) for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
    } else fs.rmSync(path.join(dir, base.slice(4)), { recursive: true, force: true });
  }
}

/** Layer tars (OCI whiteouts in them) applied bottom first onto one tree, packed as a root filesystem tar. */
async function joinLayers(layers: string[], out: string): Promise<void> {
  const root = `${out}.root`;
  fs.mkdirSync(root, { mode: 0o755 });
  try {
    for (const [i, layer] of layers.entries()) {
      const members = await checkRootfsTar(layer, `layer ${i + 1}`);
      applyWhiteouts(root, members);
      await tar(['-C', root, ...KEEP_ROOTFS, '--exclude=.wh.*', '-xpf', layer], `unpacking layer ${i + 1}`);
    }
    await tar(['-C', root, ...KEEP_ROOTFS, '-cf', out, '.'], 'packing the root filesystem');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * podman snapshot archives: the committed image's files as one root filesystem tar, no memory
 * (podman checkpoints keep files). An import makes it a podman image of its own (`podman import`)
 * that the new snapshot's machines run. Backups send podman's own layers apart (the imported root
 * is the same blob in every backup, so only the commits above it travel again).
 */
export const podmanArchiver: SnapshotArchiver = {
  ...rootfsArchive(recordSchema),
  volumes: volumeArchiver,
  async flatten(frozen, out) {
    const tmp = `${out}.layers`;
    fs.mkdirSync(tmp, { mode: 0o700 });
    try {
      await joinLayers(await savedLayers(frozen, tmp), out);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
  async layerFiles(frozen, _record, tmp) {
    return savedLayers(frozen, tmp);
  },
  join: joinLayers,
  async check(dir) {
    await checkRootfsTar(path.join(dir, 'rootfs.tar'), 'rootfs.tar');
  },
  async adopt(disk, record) {
    const ref = `localhost/hangar-snap-imported-${path
      .basename(disk, '.tar')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')}:${Date.now().toString(36)}`;
    await pmLong(['import', disk, ref]);
    fs.rmSync(disk, { force: true });
    return { disk: ref, record, made: [] };
  },
};
