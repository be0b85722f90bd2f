import fs from 'node:fs';
import type { Image } from '@/lib/contracts/images';
import type { Job } from '@/lib/contracts/jobs';
import { ArchiveError, readArchive } from '@/server/drivers/oci/archive';
import { parseImageRef, type ImageRef } from '@/server/drivers/oci/ref';
import { resolveImage, SkopeoError, type ResolvedImage } from '@/server/drivers/oci/skopeo';
import { imageLayers, type OciPaths } from '@/server/drivers/oci/store';
import type { Principal } from './auth';
import { BadRequestError } from './errors';
import { ociFailure } from './oci-errors';
import type { RegistryService } from './registries';

type Pulled = Image & { recipe: { digest: string } };

/** What the import needs of the OCI image service (its pull's checks, reuse and copy job). */
export interface ArchiveImporter {
  readonly paths: OciPaths;
  ociRows(): Promise<Pulled[]>;
  reuse(p: Principal, ref: ImageRef, img: Pulled, names?: string[]): Promise<Job>;
  checkSpace(ref: ImageRef, img: ResolvedImage): void;
  startCopy(
    p: Principal,
    title: string,
    ref: ImageRef,
    img: ResolvedImage,
    access: Awaited<ReturnType<RegistryService['access']>>,
    names?: string[],
    after?: () => void,
  ): Promise<Job>;
}

/**
 * An uploaded archive (`docker save`, `podman save`, an OCI layout in a tar) into the store as a
 * pull is: the same digest and diff_id checks, space check and reuse of a digest already here.
 * The names the archive gives its image (RepoTags) become refs of the image, so `hangar run
 * NAME:TAG` finds it without a registry. The file is removed once the job ends (or at once on refusal).
 */
export async function importOciArchive(oci: ArchiveImporter, defaultRegistry: string, p: Principal, file: string, label: string): Promise<Job> {
  let handedOver = false;
  try {
    const info = await readArchive(file).catch((err: unknown) => {
      throw err instanceof ArchiveError ? new BadRequestError(`${label}: ${err.message}`) : err;
    });
    const names = info.names
      .filter((n) => /[/:]/.test(n))
      .flatMap((n) => {
        try {
          return [parseImageRef(n, defaultRegistry).full];
        } catch {
          return [];
        }
      });
    const ref: ImageRef = { registry: '', repository: '', tag: null, digest: null, full: `${info.format}:${label}`, archive: `${info.format}:${file}` };
    const access = { insecure: false, certDir: null, creds: false };
    let img: ResolvedImage;
    try {
      img = await resolveImage(oci.paths, ref, access, false);
    } catch (err) {
      throw err instanceof SkopeoError ? ociFailure(err) : err;
    }
    const known = (await oci.ociRows()).find((r) => r.recipe.digest === img.digest);
    if (known && imageLayers(oci.paths, img.digest)) return await oci.reuse(p, ref, known, names);
    oci.checkSpace(ref, img);
    const job = await oci.startCopy(p, `Import ${label}`, ref, img, access, names, () => fs.rmSync(file, { force: true }));
    handedOver = true;
    return job;
  } finally {
    if (!handedOver) fs.rmSync(file, { force: true });
  }
}
