import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { firstLine, run } from '@/server/drivers/exec';
import { removeTree } from '@/server/drivers/shared/tree';

/** What a recipe's build returns, kept with the built files. */
export interface BuiltImage {
  sizeBytes: number;
  boot: unknown;
  facts?: Record<string, unknown>;
}

/** Builds faster than this are made again rather than kept. */
const KEEP_OVER_MS = 60_000;
/** Kept builds older than this are gone at the next keep (earlier runs, other commits). */
const MAX_AGE_MS = 3 * 3600_000;

async function pruneOld(root: string): Promise<void> {
  for (const name of await fs.readdir(root).catch(() => [] as string[])) {
    const at = path.join(root, name);
    const st = await fs.stat(at).catch(() => null);
    if (st && Date.now() - st.mtimeMs > MAX_AGE_MS) await removeTree(at);
  }
}

let serverHash: Promise<string> | null = null;

/** The running server's own code: a kept image is never used by another build of Hangar. */
function hashOfServer(): Promise<string> {
  return (serverHash ??= new Promise((resolve) => {
    const h = createHash('sha256');
    createReadStream(process.argv[1] ?? '')
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', () => resolve('unknown'));
  }));
}

async function copyTree(from: string, to: string): Promise<void> {
  const r = await run(['cp', '-a', '--reflink=auto', '--', from, to], { timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`copying ${from} failed: ${firstLine(r.stderr)}`);
}

/**
 * For test runs only (HANGAR_TEST_IMAGE_CACHE names a directory): a built image kept per recipe
 * and per server build, so the several test servers of one run that need debian-12 build it
 * once and copy it after. Off (null) unless the variable is set; a user's builds never use it.
 */
export async function imageBuildCache(recipe: object): Promise<{
  restore(scratch: string): Promise<BuiltImage | null>;
  keep(scratch: string, built: BuiltImage, tookMs: number): Promise<void>;
} | null> {
  const root = process.env.HANGAR_TEST_IMAGE_CACHE;
  if (!root) return null;
  const key = createHash('sha256')
    .update(JSON.stringify(recipe))
    .update(await hashOfServer())
    .digest('hex')
    .slice(0, 32);
  const dir = path.join(path.resolve(root), key);
  return {
    async restore(scratch) {
      // A server that tests the build itself fills the cache for the others but always builds.
      if (process.env.HANGAR_TEST_IMAGE_CACHE_FILL_ONLY === '1' || !existsSync(path.join(dir, 'built.json'))) return null;
      await removeTree(scratch);
      await fs.mkdir(path.dirname(scratch), { recursive: true });
      await copyTree(path.join(dir, 'files'), scratch);
      return JSON.parse(await fs.readFile(path.join(dir, 'built.json'), 'utf8')) as BuiltImage;
    },
    async keep(scratch, built, tookMs) {
      // Only builds worth the copy (debootstrap's minutes, not busybox's seconds).
      if (tookMs < KEEP_OVER_MS || existsSync(dir)) return;
      await fs.mkdir(path.resolve(root), { recursive: true });
      await pruneOld(path.resolve(root));
      const tmp = `${dir}.${process.pid}.tmp`;
      try {
        await fs.mkdir(tmp);
        await copyTree(scratch, path.join(tmp, 'files'));
        await fs.writeFile(path.join(tmp, 'built.json'), JSON.stringify(built));
        // Another server may have kept the same build meanwhile: theirs stays.
        await fs.rename(tmp, dir).catch(() => undefined);
      } finally {
        await removeTree(tmp);
      }
    },
  };
}
