import type { Store } from '@/db/client';
import { listImages } from '@/db/repo/images';
import { deleteFromStore } from '@/server/drivers/oci/skopeo';
import { storedImages, type OciPaths } from '@/server/drivers/oci/store';

/**
 * Images in the store that no Hangar image row names (a pull cut off between skopeo's copy and
 * its record, a row deleted by hand), deleted with the layers only they use. Pulls in flight are kept.
 */
export async function collectOciGarbage(store: Store, paths: OciPaths, inFlight: ReadonlySet<string>): Promise<{ removed: number; freedBytes: number }> {
  const kept = new Set((await listImages(store)).filter((i) => i.kind === 'oci').map((i) => String((i.recipe as { digest?: unknown }).digest)));
  let removed = 0;
  let freedBytes = 0;
  for (const s of storedImages(paths)) {
    if (kept.has(s.digest) || inFlight.has(s.digest)) continue;
    await deleteFromStore(paths, s.digest);
    removed++;
    freedBytes += s.ownBytes;
  }
  return { removed, freedBytes };
}
