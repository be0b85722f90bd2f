import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BuildImageBody, Image } from '@/lib/contracts/images';
import type { Job } from '@/lib/contracts/jobs';
import type { Store } from '@/db/client';
import {
  countMachinesUsingImage,
  countSnapshotsOfImage,
  deleteImage,
  failBuildingImages,
  getImageRow,
  insertImage,
  listImages,
  updateImage,
} from '@/db/repo/images';
import { removeTree } from '@/server/drivers/shared/tree';
import type { CopyReporter, ImageCopyService } from './cluster/image-copies';
import type { DriverDescription } from '@/lib/contracts/drivers';
import type { BootFiles, BootInfo, DriverRegistry } from '@/server/drivers/types';
import type { Principal } from './auth';
import type { EventBus } from './events';
import { ConflictError, NotFoundError } from './errors';
import { newId } from './ids';
import type { JobRunner } from './jobs';
import { resolveInside } from './paths';
import { imageBuildCache } from './image-build-cache';
import type { OciImageService } from './oci-images';
import type { RootfsImageService } from './rootfs-images';
import type { SettingsService } from './settings';

/** What drivers boot an image from: one definition, the driver's. */
export type ImageFiles = BootFiles;

/** The driver pulls OCI images itself (its description's `ociPull`): `files` gives it where from, and it needs no copy of their layers. */
export const pullsOci = (d: Pick<DriverDescription, 'ociPull'>): boolean => d.ociPull?.available === true;

/**
 * Base images, built by jobs into `<data>/images/<name>/` and renamed into place only when
 * complete, each by its recipe (found by kind in the driver registry).
 */
export class ImageService {
  /** A cluster: copies of images other nodes hold. */
  copies: ImageCopyService | null = null;

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly settings: SettingsService,
    private readonly layout: { images: string; kernels: string; cache: string },
    private readonly drivers: Pick<DriverRegistry, 'recipe' | 'all'>,
    /** Images pulled from registries (kind `oci`). */
    readonly oci: OciImageService,
    /** Root filesystem tarballs imported (kind `rootfs`). */
    readonly rootfs: RootfsImageService,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start-up: builds cut off by a stop are failed, and their scratch dirs removed. */
  async recover(): Promise<void> {
    await failBuildingImages(this.store, this.now());
    const entries = await fs.readdir(this.layout.images).catch(() => [] as string[]);
    for (const e of entries) if (e.startsWith('.')) await removeTree(path.join(this.layout.images, e));
  }

  list(): Promise<Image[]> {
    return listImages(this.store);
  }

  /** Paths of a ready image, for drivers (`pull`: the driver pulls OCI images itself, see its description's `ociPull`). */
  async files(name: string, opts: { pull?: boolean; report?: CopyReporter; copyLater?: boolean } = {}): Promise<ImageFiles> {
    const found = await getImageRow(this.store, { name });
    if (!found || found.state !== 'ready') throw new NotFoundError(`Image "${name}" (build it on the Images page)`);
    if (found.kind === 'oci') {
      // Pulled by another node: its layers copied into this node's store, unless the driver pulls the image itself. A
      // create's job copies them (`copyLater`: answered without layers, the job asks again once they are here).
      const copies = opts.pull ? undefined : this.copies;
      const later = opts.copyLater === true && copies?.ociMissing(found) === true;
      if (copies && !later) await copies.localDir(found, opts.report);
      return this.oci.files({ name: found.name, recipe: JSON.parse(found.recipeJson) }, { pull: opts.pull, later });
    }
    // Built before boot.json existed: as its recipe boots such images.
    const legacy = () => this.drivers.recipe(found.kind as BuildImageBody['kind'])?.legacyBoot ?? { append: '', ssh: false, diskBytes: 0 };
    // `copyLater` (a create, whose job copies it with progress: copyHere): where this node's copy will be, as its holder describes it.
    const later = this.copies && opts.copyLater ? await this.copies.pending(found) : null;
    if (later) return imageFiles(name, found.kind, later.dir, later.boot.boot ?? legacy(), later.boot.rootfs);
    // Held by another node (a cluster): this node's copy, made now when missing (cluster/image-copies.ts).
    const dir = this.copies ? await this.copies.localDir(found, opts.report) : found.path;
    const boot: BootInfo = await fs
      .readFile(path.join(dir, 'boot.json'), 'utf8')
      .then((t) => JSON.parse(t) as BootInfo)
      .catch(legacy);
    return imageFiles(name, found.kind, dir, boot, existsSync(path.join(dir, 'rootfs')));
  }

  /**
   * A cluster: the image's files copied to this node now when another node holds them, the copy's
   * progress in `report` (a fork or restore job's log), rather than later when the machine boots.
   * An OCI image's layers go to this node's store, unless the machine's driver pulls it itself (`pull`).
   */
  async copyHere(name: string, report: CopyReporter, opts: { pull?: boolean } = {}): Promise<void> {
    const row = await getImageRow(this.store, { name });
    if (!this.copies || !row || row.state !== 'ready' || (row.kind === 'oci' && opts.pull) || this.copies.holds(row)) return;
    await this.copies.localDir(row, report);
  }

  async build(p: Principal, body: BuildImageBody): Promise<Job> {
    const name = body.kind;
    const dir = resolveInside(this.layout.images, name);
    const existing = await getImageRow(this.store, { name });
    if (existing?.state === 'ready') throw new ConflictError(`Image "${name}" is already built; delete it first to rebuild.`);
    if (existing?.state === 'building') throw new ConflictError(`Image "${name}" is being built already.`);
    const now = this.now();
    const builder = this.drivers.recipe(body.kind);
    const recipe = { ...builder.recipe };
    const image = existing
      ? // A failed build built again here: its files (and its row's node) are this node's.
        (await updateImage(this.store, existing.id, { state: 'building', updatedAt: now, recipe, path: dir }))!
      : await insertImage(this.store, {
          id: newId('img'),
          name,
          kind: body.kind,
          state: 'building',
          sizeBytes: 0,
          recipe,
          createdAt: now,
          updatedAt: now,
          path: dir,
        });
    this.bus.publish('image:update', image);
    const { job } = await this.jobs.start({ kind: 'image.build', title: `Build image ${name}`, ownerId: p.user.id }, async (ctx) => {
      const scratch = path.join(this.layout.images, `.${name}-${ctx.jobId}`);
      try {
        const kept = await imageBuildCache(recipe);
        const started = Date.now();
        const reused = await kept?.restore(scratch);
        if (reused) ctx.log('copied from the test image cache (HANGAR_TEST_IMAGE_CACHE): built by an earlier test server of this run');
        const built = reused ?? {
          ...(await builder.build(scratch, {
            log: ctx.log,
            progress: ctx.progress,
            signal: ctx.signal,
            kernels: this.layout.kernels,
            cache: this.layout.cache,
            debianMirror: this.settings.get().debianMirror,
          })),
        };
        ctx.signal.throwIfAborted();
        if (!reused) await kept?.keep(scratch, built, Date.now() - started);
        const { sizeBytes, boot, facts } = built as Awaited<ReturnType<typeof builder.build>>;
        await fs.writeFile(path.join(scratch, 'boot.json'), JSON.stringify(boot, null, 2));
        await removeTree(dir);
        await fs.rename(scratch, dir);
        const done = await updateImage(this.store, image.id, {
          state: 'ready',
          sizeBytes,
          updatedAt: this.now(),
          path: dir,
          recipe: { ...recipe, ...facts },
        });
        if (done) this.bus.publish('image:update', done);
        return { image: name, sizeBytes, ...facts };
      } catch (err) {
        await removeTree(scratch);
        const failed = await updateImage(this.store, image.id, { state: 'failed', updatedAt: this.now() });
        if (failed) this.bus.publish('image:update', failed);
        throw err;
      }
    });
    return job;
  }

  async remove(id: string): Promise<void> {
    const row = await getImageRow(this.store, { id });
    if (!row) throw new NotFoundError('Image');
    if (row.state === 'building') throw new ConflictError('This image is being built; cancel its job first.');
    const users = await countMachinesUsingImage(this.store, row.name);
    if (users > 0) throw new ConflictError(`Image "${row.name}" is used by ${users} machine${users === 1 ? '' : 's'}; destroy them first.`);
    // A snapshot's disk chain (or a container's layers) ends in the image's files: deleting them would break it for good.
    const snaps = await countSnapshotsOfImage(this.store, row.name);
    if (snaps > 0) throw new ConflictError(`Image "${row.name}" is the base of ${snaps} snapshot${snaps === 1 ? '' : 's'}; delete them first.`);
    // Copies drivers made of it in stores of their own (podman's pull or import) go first: they are found by its files.
    const files = await this.files(row.name, { pull: true }).catch(() => this.files(row.name).catch(() => null));
    if (files) for (const d of this.drivers.all()) await d.forgetImage?.(files);
    if (row.kind === 'oci') await this.oci.remove(JSON.parse(row.recipeJson));
    else await removeTree(resolveInside(this.layout.images, row.name));
    await deleteImage(this.store, id);
    this.bus.publish('image:removed', { id });
    // Its copies on other nodes go too (they sweep what they miss when back).
    await this.copies?.dropGone(id);
  }
}

/** An image's files in its dir (the holder's, or this node's copy), as drivers take them. */
function imageFiles(name: string, kind: string, dir: string, boot: BootInfo, hasRootfs: boolean): ImageFiles {
  return {
    image: name,
    kind,
    kernel: path.join(dir, 'kernel'),
    initrd: path.join(dir, 'initrd.img'),
    disk: path.join(dir, 'disk.qcow2'),
    ...boot,
    ...(hasRootfs ? { rootfs: path.join(dir, 'rootfs') } : {}),
  };
}
