import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DiskResult, ImportDiskBody, ImportDiskQuery } from '@/lib/contracts/disk-images';
import type { Image } from '@/lib/contracts/images';
import type { Job } from '@/lib/contracts/jobs';
import { formatBytes } from '@/lib/format';
import type { Store } from '@/db/client';
import { deleteImage, getImageRow, listImages, updateImage } from '@/db/repo/images';
import { firstLine, run } from '@/server/drivers/exec';
import { removeTree } from '@/server/drivers/shared/tree';
import type { Principal } from './auth';
import { checkDisk, DiskRefusal, type CheckedDisk } from './disk-check';
import { diskFirmware } from './disk-firmware';
import { downloadFile } from './download-file';
import { BadRequestError } from './errors';
import type { EventBus } from './events';
import { resolveTarget, TargetRefused } from './guarded-fetch';
import { newId } from './ids';
import { claimImage, dropImage } from './image-claim';
import type { JobContext, JobRunner } from './jobs';
import { resolveInside } from './paths';

/** Free space the data dir keeps beyond an import. */
const RESERVE = 512 * 2 ** 20;
/** A download may be at most this big (and never more than the free space). */
const MAX_DOWNLOAD = 64 * 2 ** 30;

/**
 * Where a disk to import may be taken from on the server: the data dir's `imports/` (not the whole
 * data dir: it holds other users' machine disks), and the dirs HANGAR_DISK_IMPORT_DIRS lists (colon-separated).
 */
export function importRoots(dataDir: string): string[] {
  const extra = (process.env.HANGAR_DISK_IMPORT_DIRS ?? '').split(':').filter((d) => path.isAbsolute(d));
  return [path.join(dataDir, 'imports'), ...extra].map((d) => path.resolve(d));
}

/**
 * VM disk images (kind `disk`): a qcow2 or raw disk, uploaded, downloaded or taken from a path on
 * the server, checked by `qemu-img info` (disk-check.ts) and kept as `<images>/<name>/disk.qcow2`,
 * standalone (raw converted), for machines to put their own qcow2 overlay on. The guest boots its
 * own kernel (from the disk, BIOS or UEFI) and gets a cloud-init NoCloud seed per machine (the qemu
 * driver's seed.ts). Work is done in a dot-dir renamed into place when whole: a failed import
 * leaves neither files nor a row.
 */
export class DiskImageService {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly imagesDir: string,
    private readonly roots: string[],
    private readonly allowPrivate: () => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start-up (after the image service's, which removes dot-dirs): imports cut off by a stop leave no row. */
  async recover(): Promise<void> {
    for (const i of await listImages(this.store)) if (i.kind === 'disk' && i.state !== 'ready') await deleteImage(this.store, i.id);
  }

  private free(): number {
    fs.mkdirSync(this.imagesDir, { recursive: true });
    const st = fs.statfsSync(this.imagesDir);
    return Math.max(0, st.bavail * st.bsize - RESERVE);
  }

  /** Where an upload is written first (a dot-file), and how big it may be. */
  uploadTarget(): { file: string; maxBytes: number } {
    return { file: resolveInside(this.imagesDir, `.upload-${newId('job')}.disk`), maxBytes: this.free() };
  }

  /** An uploaded disk: checked now (a refusal is a 400 and the file goes), kept by a job. */
  async importFile(p: Principal, file: string, q: ImportDiskQuery): Promise<Job> {
    const label = q.file ?? 'upload';
    let row: Image | null = null;
    try {
      const checked = await this.check(file, label, q.sha256).catch(refusedAs400);
      row = await this.claim(q.name, `upload:${label}`);
      return await this.keepJob(p, row, file, true, checked, `Import ${label} as ${q.name}`);
    } catch (err) {
      fs.rmSync(file, { force: true });
      if (row) await this.drop(row);
      throw err;
    }
  }

  /** A disk from a URL (a job: download, checks, keep) or from a path on the server (checked now, kept by a job). */
  async importBody(p: Principal, body: ImportDiskBody): Promise<Job> {
    if (body.path) {
      const file = this.confined(body.path);
      const checked = await this.check(file, body.path, body.sha256).catch(refusedAs400);
      const row = await this.claim(body.name, file);
      return this.keepJob(p, row, file, false, checked, `Import ${body.path} as ${body.name}`);
    }
    const url = body.url!;
    await resolveTarget(url, this.allowPrivate()).catch((err: Error) => {
      throw err instanceof TargetRefused ? new BadRequestError(`Download refused: ${err.message}`, [{ path: 'url', message: err.message }]) : err;
    });
    const row = await this.claim(body.name, url);
    const { job } = await this.jobs.start({ kind: 'image.import', title: `Import ${url} as ${body.name}`, ownerId: p.user.id }, async (ctx) => {
      const file = resolveInside(this.imagesDir, `.download-${ctx.jobId}.disk`);
      try {
        await downloadFile(ctx, url, file, { max: Math.min(MAX_DOWNLOAD, this.free()), allowPrivate: this.allowPrivate(), upTo: 60 });
        ctx.progress(62, 'Checking the disk (qemu-img)');
        const checked = await this.check(file, url, body.sha256);
        return await this.keep(ctx, row, file, true, checked);
      } catch (err) {
        if (await getImageRow(this.store, { id: row.id })) await this.drop(row);
        throw err;
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
    return job;
  }

  /** A server path: a regular file (symlinks resolved) inside one of the allowed roots; one answer for missing and outside. */
  private confined(p: string): string {
    let real: string | null = null;
    try {
      real = fs.realpathSync(p);
    } catch {
      // missing: the same refusal as outside, so the answer says nothing of the host's other files
    }
    if (!real || !this.roots.some((r) => real.startsWith(r + path.sep)) || !fs.statSync(real).isFile())
      throw new BadRequestError(`${p} is not a file in the data dir's imports/ or HANGAR_DISK_IMPORT_DIRS: nothing was imported`, [
        { path: 'path', message: 'not a file in an allowed dir' },
      ]);
    return real;
  }

  private async check(file: string, label: string, sha256?: string): Promise<CheckedDisk & { sha256: string }> {
    const sum = await fileSha256(file);
    if (sha256 && sha256 !== sum) throw new DiskRefusal(`${label}: its SHA-256 is ${sum}, not ${sha256} as asked`);
    const checked = await checkDisk(file, label);
    if (checked.format === 'raw' && checked.virtualBytes > this.free())
      throw new DiskRefusal(`${label}: converting its ${formatBytes(checked.virtualBytes)} needs more than the free space`);
    return { ...checked, sha256: sum };
  }

  private claim(name: string, source: string): Promise<Image> {
    return claimImage(this.store, this.bus, { name, kind: 'disk', recipe: { source }, now: this.now() });
  }

  private drop(row: Image): Promise<void> {
    return dropImage(this.store, this.bus, row);
  }

  private async keepJob(p: Principal, row: Image, file: string, owned: boolean, checked: CheckedDisk & { sha256: string }, title: string): Promise<Job> {
    const { job } = await this.jobs.start({ kind: 'image.import', title, ownerId: p.user.id }, async (ctx) => {
      try {
        return await this.keep(ctx, row, file, owned, checked);
      } catch (err) {
        if (await getImageRow(this.store, { id: row.id })) await this.drop(row);
        throw err;
      } finally {
        if (owned) fs.rmSync(file, { force: true });
      }
    });
    return job;
  }

  /** The checked file becomes `<name>/disk.qcow2` (a qcow2 of ours renamed; raw, or a file not ours, converted). */
  private async keep(ctx: JobContext, row: Image, file: string, owned: boolean, c: CheckedDisk & { sha256: string }): Promise<DiskResult> {
    const scratch = resolveInside(this.imagesDir, `.disk-${ctx.jobId}`);
    const dir = resolveInside(this.imagesDir, row.name);
    try {
      fs.mkdirSync(scratch, { recursive: true, mode: 0o700 });
      const disk = path.join(scratch, 'disk.qcow2');
      ctx.log(`${c.format}, ${formatBytes(c.virtualBytes)} virtual, sha256 ${c.sha256}`);
      if (owned && c.format === 'qcow2') fs.renameSync(file, disk);
      else {
        ctx.progress(70, `Converting the ${c.format} disk to qcow2`);
        const r = await run(['qemu-img', 'convert', '-q', '-f', c.format, '-O', 'qcow2', '--', file, disk], { timeoutMs: 60 * 60_000, signal: ctx.signal });
        if (r.code !== 0) throw new Error(`qemu-img convert failed: ${firstLine(r.stderr)}`);
      }
      const firmware = await diskFirmware(disk, 'qcow2');
      ctx.log(`boots with ${firmware === 'uefi' ? 'UEFI (an EFI system partition, no BIOS boot code)' : 'BIOS'} unless a machine asks otherwise`);
      const boot = { append: '', ssh: true, diskBytes: c.virtualBytes, ownKernel: true, cloudInit: true, firmware };
      fs.writeFileSync(path.join(scratch, 'boot.json'), JSON.stringify(boot, null, 2));
      fs.renameSync(scratch, dir);
      const sizeBytes = fs.statSync(path.join(dir, 'disk.qcow2')).size;
      const recipe = { source: row.recipe.source, format: c.format, virtualBytes: c.virtualBytes, sha256: c.sha256, firmware };
      const done = await updateImage(this.store, row.id, { state: 'ready', sizeBytes, updatedAt: this.now(), path: dir, recipe });
      if (done) this.bus.publish('image:update', done);
      ctx.progress(100, `Image ${row.name} is ready`);
      return { image: row.name, format: c.format, virtualBytes: c.virtualBytes, sizeBytes, sha256: c.sha256, firmware };
    } catch (err) {
      await removeTree(scratch);
      throw err;
    }
  }
}

const refusedAs400 = (err: unknown): never => {
  throw err instanceof DiskRefusal ? new BadRequestError(`${err.message}: nothing was imported`) : err;
};

async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
