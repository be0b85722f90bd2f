import fs from 'node:fs';
import { formatBytes } from '@/lib/format';
import type { ImageRef } from '@/server/drivers/oci/ref';
import type { ResolvedImage } from '@/server/drivers/oci/skopeo';
import { storedBlobDigests, type OciPaths } from '@/server/drivers/oci/store';
import { BadRequestError } from './errors';

/** Space left free on the data dir's filesystem beyond what a pull needs. */
export const RESERVE = 512 * 2 ** 20;

/** Free bytes on the filesystem of the image store. */
export function freeBytes(p: OciPaths): number {
  const st = fs.statfsSync(p.storage);
  return st.bavail * st.bsize;
}

/**
 * Refuses a pull (or archive import) before anything is fetched when the layers the store lacks,
 * by the sizes the manifest declares, would not fit: in the free space of the data dir (less a
 * reserve), or under the configured cap (Settings `imagePullMaxMib`, 0: none). A 10 GB layer is
 * turned away by its manifest, not by a full disk.
 */
export function checkSpace(p: OciPaths, ref: ImageRef, img: ResolvedImage, capMib: number, free = freeBytes(p)): void {
  const have = storedBlobDigests(p);
  // A blob the manifest names twice is fetched once.
  const missing = [...new Map(img.layers.filter((l) => !have.has(l.digest)).map((l) => [l.digest, l])).values()];
  const needed = missing.reduce((a, l) => a + l.size, 0);
  const largest = missing.reduce((a, l) => Math.max(a, l.size), 0);
  const counted = `${missing.length} of ${img.layers.length}, the largest ${formatBytes(largest)}`;
  const what = `${ref.full} declares ${formatBytes(needed)} of layers not stored yet (${counted})`;
  const details = [{ path: 'ref', message: `needs ${needed} bytes` }];
  if (capMib > 0 && needed > capMib * 2 ** 20)
    throw new BadRequestError(`${what}; a pull may add at most ${formatBytes(capMib * 2 ** 20)} (Settings: imagePullMaxMib). Nothing was fetched.`, details);
  if (needed + RESERVE > free)
    throw new BadRequestError(`${what}; the data dir has ${formatBytes(free)} free (${formatBytes(RESERVE)} kept in reserve). Nothing was fetched.`, details);
}
