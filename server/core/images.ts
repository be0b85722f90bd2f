import fs from 'node:fs/promises';
import path from 'node:path';
import type { BuildImageBody, Image } from '@/lib/contracts/images';
import type { Job } from '@/lib/contracts/jobs';
import type { Store } from '@/db/client';
import { countMachinesUsingImage, deleteImage, failBuildingImages, getImageRow, insertImage, listImages, updateImage } from '@/db/repo/images';
import { BUSYBOX_RECIPE, buildBusyboxImage } from '@/server/drivers/qemu/busybox-image';
import { ensureKernel } from '@/server/drivers/qemu/kernel';
import type { Principal } from './auth';
import type { EventBus } from './events';
import { ConflictError, NotFoundError } from './errors';
import { newId } from './ids';
import type { JobRunner } from './jobs';
import { resolveInside } from './paths';

export interface ImageFiles {
  kernel: string;
  initrd: string;
  disk: string;
}

/** Base images, built by jobs into `<data>/images/<name>/` and renamed into place only when complete. */
export class ImageService {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly layout: { images: string; kernels: string },
    private readonly now: () => number = Date.now,
  ) {}

  /** Start-up: builds cut off by a stop are failed, and their scratch dirs removed. */
  async recover(): Promise<void> {
    await failBuildingImages(this.store, this.now());
    const entries = await fs.readdir(this.layout.images).catch(() => [] as string[]);
    for (const e of entries) if (e.startsWith('.')) await fs.rm(path.join(this.layout.images, e), { recursive: true, force: true });
  }

  list(): Promise<Image[]> {
    return listImages(this.store);
  }

  /** Paths of a ready image, for drivers. */
  async files(name: string): Promise<ImageFiles> {
    const row = await getImageRow(this.store, { name });
    if (!row || row.state !== 'ready') throw new NotFoundError(`Image "${name}" (build it on the Images page)`);
    return { kernel: path.join(row.path, 'kernel'), initrd: path.join(row.path, 'initrd.img'), disk: path.join(row.path, 'disk.qcow2') };
  }

  async build(p: Principal, body: BuildImageBody): Promise<Job> {
    const name = body.kind;
    const dir = resolveInside(this.layout.images, name);
    const existing = await getImageRow(this.store, { name });
    if (existing?.state === 'ready') throw new ConflictError(`Image "${name}" is already built; delete it first to rebuild.`);
    if (existing?.state === 'building') throw new ConflictError(`Image "${name}" is being built already.`);
    const now = this.now();
    const image = existing
      ? (await updateImage(this.store, existing.id, { state: 'building', updatedAt: now, recipe: { ...BUSYBOX_RECIPE } }))!
      : await insertImage(this.store, { id: newId('img'), name, kind: body.kind, state: 'building', sizeBytes: 0, recipe: { ...BUSYBOX_RECIPE }, createdAt: now, updatedAt: now, path: dir });
    this.bus.publish('image:update', image);
    const { job } = await this.jobs.start({ kind: 'image.build', title: `Build image ${name}`, ownerId: p.user.id }, async (ctx) => {
      const scratch = path.join(this.layout.images, `.${name}-${ctx.jobId}`);
      try {
        ctx.progress(5, 'Fetching the guest kernel');
        const kernel = await ensureKernel(this.layout.kernels, ctx.log, ctx.signal);
        ctx.progress(60, 'Writing the initramfs');
        const built = await buildBusyboxImage(scratch, kernel, ctx.log);
        ctx.signal.throwIfAborted();
        await fs.rm(dir, { recursive: true, force: true });
        await fs.rename(scratch, dir);
        const done = await updateImage(this.store, image.id, { state: 'ready', sizeBytes: built.sizeBytes, updatedAt: this.now(), path: dir, recipe: { ...BUSYBOX_RECIPE, kernel: kernel.version, boot: kernel.vmlinux ? 'pvh' : 'bzimage' } });
        if (done) this.bus.publish('image:update', done);
        return { image: name, kernel: kernel.version, sizeBytes: built.sizeBytes };
      } catch (err) {
        await fs.rm(scratch, { recursive: true, force: true });
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
    await fs.rm(resolveInside(this.layout.images, row.name), { recursive: true, force: true });
    await deleteImage(this.store, id);
    this.bus.publish('image:removed', { id });
  }
}
