import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Image, ImportRootfsUrlBody, RootfsResult } from '@/lib/contracts/images';
import type { Job } from '@/lib/contracts/jobs';
import { formatBytes } from '@/lib/format';
import type { Store } from '@/db/client';
import { deleteImage, getImageRow, listImages, updateImage } from '@/db/repo/images';
import { extractTarball, scanTarball } from '@/server/drivers/rootfs/extract';
import { TarRefusal, type Compression, type ScanResult } from '@/server/drivers/rootfs/tar-scan';
import { removeTree } from '@/server/drivers/shared/tree';
import type { Principal } from './auth';
import { BadRequestError } from './errors';
import type { EventBus } from './events';
import { guardedGet, resolveTarget, TargetRefused } from './guarded-fetch';
import { newId } from './ids';
import { claimImage, dropImage } from './image-claim';
import type { JobContext, JobRunner } from './jobs';
import { resolveInside } from './paths';

/** What an imported root filesystem keeps as its recipe. */
export type RootfsRecipe = { source: string; sha256: string; compression: Compression; entries: number; setuid: number };

/** Free space the data dir keeps beyond an import (checked before and while unpacking). */
const RESERVE = 512 * 2 ** 20;
/** A download may be at most this big (and never more than the free space). */
const MAX_DOWNLOAD = 16 * 2 ** 30;

/**
 * Root filesystem tarballs as images (the nspawn seed's IMAGE/PULL of a `.tar.gz`): uploaded or
 * downloaded to a dot-file in the images dir, checked entry by entry (see tar-scan.ts), unpacked
 * into `.rootfs-<job>/rootfs` and renamed to `<name>/` only when whole. Refusals before the job
 * are 4xx; a refused download fails its job; either way the temp files and the row go.
 */
export class RootfsImageService {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly imagesDir: string,
    /** Whether downloads may reach this host, loopback or link-local addresses (Settings: downloadAllowPrivate). */
    private readonly allowPrivate: () => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start-up (after the image service's): imports cut off by a stop leave no row (their dot-files are removed with the builds'). */
  async recover(): Promise<void> {
    for (const i of await listImages(this.store)) if (i.kind === 'rootfs' && i.state !== 'ready') await deleteImage(this.store, i.id);
  }

  private free(): number {
    fs.mkdirSync(this.imagesDir, { recursive: true });
    const st = fs.statfsSync(this.imagesDir);
    return st.bavail * st.bsize;
  }

  /** Where an upload is written (a dot-file: start-up removes it if a stop cuts the import off), and how big it may be. */
  uploadTarget(): { file: string; maxBytes: number } {
    return { file: resolveInside(this.imagesDir, `.upload-${newId('job')}.tar`), maxBytes: Math.max(0, this.free() - RESERVE) };
  }

  private claim(name: string, source: string): Promise<Image> {
    return claimImage(this.store, this.bus, { name, kind: 'rootfs', recipe: { source }, now: this.now() });
  }

  private drop(row: Image): Promise<void> {
    return dropImage(this.store, this.bus, row);
  }

  private async check(file: string, label: string, o: { sha256?: string; allowSetuid: boolean }, signal?: AbortSignal) {
    const sha256 = await fileSha256(file);
    if (o.sha256 && o.sha256 !== sha256) throw new TarRefusal(`its SHA-256 is ${sha256}, not ${o.sha256} as asked: nothing was unpacked`);
    const scan = await scanTarball(file, { allowSetuid: o.allowSetuid }, signal);
    const free = this.free();
    if (scan.diskBytes + RESERVE > free)
      throw new TarRefusal(
        `it unpacks to ${formatBytes(scan.diskBytes)}; the data dir has ${formatBytes(free)} free (${formatBytes(RESERVE)} kept in reserve)`,
      );
    return { ...scan, sha256, source: label };
  }

  /**
   * An uploaded tarball: checksum, scan and space checked now (a refusal is a 400 naming the
   * entry), then unpacked in a job. The file is removed when the job ends, or at once on refusal.
   */
  async importFile(p: Principal, file: string, q: { name: string; sha256?: string; file?: string; allowSetuid: boolean }): Promise<Job> {
    const label = q.file ?? 'upload.tar';
    let row: Image | null = null;
    let handedOver = false;
    try {
      row = await this.claim(q.name, label);
      const checked = await this.check(file, label, q).catch((err: unknown) => {
        throw err instanceof TarRefusal ? new BadRequestError(`${label}: ${err.message}`) : err;
      });
      const claimed = row;
      const { job } = await this.jobs.start({ kind: 'image.import', title: `Import ${label} as ${q.name}`, ownerId: p.user.id }, (ctx) =>
        this.unpack(ctx, claimed, file, checked, q.allowSetuid, 0),
      );
      handedOver = true;
      return job;
    } finally {
      if (!handedOver) {
        if (row) await this.drop(row);
        fs.rmSync(file, { force: true });
      }
    }
  }

  /** A tarball from a URL: the download (size-limited, with progress), its checksum and the scan are the job's first part. */
  async importUrl(p: Principal, body: ImportRootfsUrlBody): Promise<Job> {
    // Checked now for a clear 400; the download checks every hop again, on the address it connects to.
    await resolveTarget(body.url, this.allowPrivate()).catch((err: Error) => {
      throw err instanceof TargetRefused ? new BadRequestError(`Download refused: ${err.message}`, [{ path: 'url', message: err.message }]) : err;
    });
    const row = await this.claim(body.name, body.url);
    const { job } = await this.jobs.start({ kind: 'image.import', title: `Import ${body.url} as ${body.name}`, ownerId: p.user.id }, async (ctx) => {
      const file = resolveInside(this.imagesDir, `.download-${ctx.jobId}.tar`);
      try {
        await this.download(ctx, body.url, file);
        ctx.progress(45, 'Checking the archive');
        const checked = await this.check(file, body.url, body, ctx.signal).catch((err: unknown) => {
          throw err instanceof TarRefusal ? new Error(`${body.url}: ${err.message}`) : err;
        });
        return await this.unpack(ctx, row, file, checked, body.allowSetuid, 50);
      } catch (err) {
        fs.rmSync(file, { force: true });
        if (await getImageRow(this.store, { id: row.id })) await this.drop(row);
        throw err;
      }
    });
    return job;
  }

  private async download(ctx: JobContext, url: string, file: string): Promise<void> {
    const max = Math.min(MAX_DOWNLOAD, Math.max(0, this.free() - RESERVE));
    ctx.log(`downloading ${url} (at most ${formatBytes(max)})`);
    const res = await guardedGet(url, { allowPrivate: this.allowPrivate(), signal: ctx.signal }).catch((err: Error) => {
      throw new Error(err instanceof TargetRefused ? `${url} refused: ${err.message}` : err.message);
    });
    const length = res.length;
    if (length > max) {
      res.body.destroy();
      throw new Error(`${url} is ${formatBytes(length)}: more than the ${formatBytes(max)} a download may take here`);
    }
    let got = 0;
    let last = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        got += chunk.length;
        if (got > max) return done(new Error(`${url} is over ${formatBytes(max)}: the download stopped`));
        const t = Date.now();
        if (t - last > 200) {
          last = t;
          ctx.progress(length ? Math.floor((40 * got) / length) : 5, `Downloaded ${formatBytes(got)}${length ? ` of ${formatBytes(length)}` : ''}`);
        }
        done(null, chunk);
      },
    });
    await pipeline(res.body, count, fs.createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
    ctx.log(`downloaded ${formatBytes(got)}`);
  }

  private async unpack(
    ctx: JobContext,
    row: Image,
    file: string,
    checked: ScanResult & { compression: Compression; sha256: string; source: string },
    allowSetuid: boolean,
    from: number,
  ): Promise<RootfsResult> {
    const scratch = resolveInside(this.imagesDir, `.rootfs-${ctx.jobId}`);
    const dir = resolveInside(this.imagesDir, row.name);
    try {
      // The image dir is root's alone: setuid programs kept in it are no way up for the host's other users.
      fs.mkdirSync(path.join(scratch, 'rootfs'), { recursive: true, mode: 0o700 });
      fs.chmodSync(scratch, 0o700);
      ctx.log(`${checked.source}: sha256 ${checked.sha256}, ${checked.compression}, ${checked.entries} entries, ${formatBytes(checked.diskBytes)} to unpack`);
      if (checked.setuid) ctx.log(`${checked.setuid} setuid/setgid files kept (allowed for this import)`);
      await extractTarball(file, path.join(scratch, 'rootfs'), {
        compression: checked.compression,
        tarBytes: checked.tarBytes,
        allowSetuid,
        reserveBytes: RESERVE,
        signal: ctx.signal,
        progress: (f) => ctx.progress(from + Math.floor((95 - from) * f), `Unpacked ${Math.round(f * 100)}%`),
      });
      fs.writeFileSync(path.join(scratch, 'boot.json'), JSON.stringify({ append: '', ssh: false, diskBytes: 0 }, null, 2));
      fs.renameSync(scratch, dir);
      const recipe: RootfsRecipe = {
        source: checked.source,
        sha256: checked.sha256,
        compression: checked.compression,
        entries: checked.entries,
        setuid: checked.setuid,
      };
      const done = await updateImage(this.store, row.id, { state: 'ready', sizeBytes: checked.diskBytes, updatedAt: this.now(), path: dir, recipe });
      if (done) this.bus.publish('image:update', done);
      ctx.progress(100, `Image ${row.name} is ready`);
      return { image: row.name, sha256: checked.sha256, entries: checked.entries, sizeBytes: checked.diskBytes, compression: checked.compression };
    } catch (err) {
      await removeTree(scratch);
      if (await getImageRow(this.store, { id: row.id })) await this.drop(row);
      throw err;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
}

async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
