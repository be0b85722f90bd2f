import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { firstLine, run } from '@/server/drivers/exec';
import { readChecksums, sha256File, verifyChecksums } from './checksums';
import { resolveInside } from './paths';

/**
 * An image's files as one tar, for another node of a cluster (cluster/image-copies.ts): a
 * manifest naming each member and its size, SHA256SUMS, each top-level file of the image's dir
 * (kernel, initrd, disk base, boot.json: whatever its kind made), and each of its trees (an OS
 * container's root filesystem) as a tar member of its own, owners and extended attributes kept.
 */
export const IMAGE_ARCHIVE_FORMAT = 'hangar-image/1';
const OWN = ['manifest.json', 'SHA256SUMS'];
const MEMBER = /^[A-Za-z0-9][\w.-]{0,100}$/;

const manifestSchema = z.object({
  format: z.literal(IMAGE_ARCHIVE_FORMAT),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  /** The image build this is (its updated_at): a copy of an older build is stale. */
  updatedAt: z.number().int().nonnegative(),
  files: z.array(z.object({ name: z.string().regex(MEMBER), bytes: z.number().int().nonnegative() })),
  /** Directories of the image, each carried as the member NAME.tar. */
  trees: z.array(z.string().regex(MEMBER)),
});
type Manifest = z.infer<typeof manifestSchema>;

const TREE_TAR = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls'];

/** The archive of the image dir `dir` into `out`, staging in `work` (removed after). */
export async function packImage(image: { name: string; updatedAt: number }, dir: string, work: string, out: string): Promise<void> {
  fs.mkdirSync(work, { recursive: true, mode: 0o700 });
  try {
    const files: Manifest['files'] = [];
    const trees: string[] = [];
    for (const e of fs.readdirSync(dir).sort()) {
      if (!MEMBER.test(e) || OWN.includes(e)) continue;
      // Followed: a kernel may be a link into the kernel cache; the copy gets the file.
      const st = fs.statSync(path.join(dir, e));
      if (st.isDirectory()) trees.push(e);
      else if (st.isFile()) files.push({ name: e, bytes: st.size });
    }
    for (const t of trees) {
      const r = await run(['tar', ...TREE_TAR, '-C', path.join(dir, t), '-cf', path.join(work, `${t}.tar`), '.'], { timeoutMs: 30 * 60_000 });
      if (r.code !== 0) throw new Error(`packing ${t} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
      files.push({ name: `${t}.tar`, bytes: fs.statSync(path.join(work, `${t}.tar`)).size });
    }
    const sums = await Promise.all(
      files.map(async (f) => `${await sha256File(trees.includes(f.name.slice(0, -4)) ? path.join(work, f.name) : path.join(dir, f.name))}  ${f.name}\n`),
    );
    fs.writeFileSync(path.join(work, 'SHA256SUMS'), sums.join(''), { mode: 0o600 });
    const manifest: Manifest = { format: IMAGE_ARCHIVE_FORMAT, name: image.name, updatedAt: image.updatedAt, files, trees };
    fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest, null, 2), { mode: 0o600 });
    const inWork = [...OWN, ...trees.map((t) => `${t}.tar`)];
    const inDir = files.map((f) => f.name).filter((n) => !inWork.includes(n));
    const r = await run(['tar', '--sparse', '--dereference', '-cf', out, '-C', work, ...inWork, '-C', dir, ...inDir], { timeoutMs: 30 * 60_000 });
    if (r.code !== 0) throw new Error(`packing image ${image.name} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpack and check an image archive into `work` (a scratch dir of the caller's), then rename the
 * result to `dest`: only the manifest's members, each of its size and checksum, the trees
 * unpacked from their members. Anything wrong throws, and `dest` is then not made. Returns the bytes.
 */
export async function unpackImage(archive: string, work: string, dest: string, want: { name: string; updatedAt: number }): Promise<number> {
  const files = path.join(work, 'files');
  fs.mkdirSync(files, { recursive: true, mode: 0o700 });
  const bad = (msg: string) => new Error(`not a whole image archive: ${msg}`);
  const x = await run(['tar', '-C', files, '--no-same-owner', '--no-same-permissions', '-xf', archive], { timeoutMs: 30 * 60_000 });
  if (x.code !== 0) throw bad(`tar could not unpack it (${firstLine(x.stderr) || `exit ${x.code}`})`);
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(fs.readFileSync(path.join(files, 'manifest.json'), 'utf8')));
  } catch {
    throw bad('no valid manifest.json');
  }
  if (manifest.name !== want.name || manifest.updatedAt !== want.updatedAt) throw bad(`it is another build (${manifest.name}, ${manifest.updatedAt})`);
  const names = manifest.files.map((f) => f.name);
  for (const e of fs.readdirSync(files)) {
    const st = fs.lstatSync(path.join(files, e));
    if (![...OWN, ...names].includes(e) || !st.isFile()) throw bad(`unexpected member "${e.slice(0, 80)}"`);
  }
  for (const f of manifest.files) {
    const p = path.join(files, f.name);
    if (!fs.existsSync(p)) throw bad(`${f.name} is missing`);
    if (fs.statSync(p).size !== f.bytes) throw bad(`${f.name} is ${fs.statSync(p).size} bytes, not ${f.bytes}`);
  }
  if (readChecksums(files).size !== names.length) throw bad('SHA256SUMS does not list every member');
  await verifyChecksums(files, undefined, names).catch((err: Error) => {
    throw bad(err.message);
  });
  for (const t of manifest.trees) {
    const tar = path.join(files, `${t}.tar`);
    if (!names.includes(`${t}.tar`)) throw bad(`tree ${t} has no member`);
    const into = resolveInside(files, t);
    fs.mkdirSync(into, { mode: 0o755 });
    const r = await run(['tar', ...TREE_TAR, '--same-owner', '-p', '-C', into, '-xf', tar], { timeoutMs: 30 * 60_000 });
    if (r.code !== 0) throw bad(`unpacking ${t} failed (${firstLine(r.stderr) || `exit ${r.code}`})`);
    fs.rmSync(tar);
  }
  for (const o of OWN) fs.rmSync(path.join(files, o));
  const bytes = manifest.files.reduce((a, f) => a + f.bytes, 0);
  fs.renameSync(files, dest);
  return bytes;
}
