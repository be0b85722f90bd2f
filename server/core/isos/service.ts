import fs from 'node:fs';
import path from 'node:path';
import type { AddIsoUrlBody, Iso } from '@/lib/contracts/isos';
import type { Job } from '@/lib/contracts/jobs';
import type { Machine } from '@/lib/contracts/machines';
import { formatBytes } from '@/lib/format';
import type { Store } from '@/db/client';
import { deleteIsoRow, getIsoRow, insertIso, listIsoRows, type IsoRow } from '@/db/repo/isos';
import type { IsoFile } from '@/server/drivers/types';
import type { Principal } from '../auth';
import { BadRequestError, ConflictError, NotFoundError } from '../errors';
import { newId } from '../ids';
import type { JobRunner } from '../jobs';
import { resolveInside } from '../paths';
import type { SettingsService } from '../settings';
import { resolveTarget, TargetRefused } from '../webhooks/ssrf';
import { downloadIso } from './download';
import { isoFormat } from './format';

/** Free space the data dir keeps beyond an ISO. */
const RESERVE = 512 * 2 ** 20;

/**
 * The ISO library: installer images in `<data>/isos/<name>`, each checked ISO 9660 or UDF and
 * no larger than the cap (Settings) before it is kept. An upload or download is written to a
 * dot-file first and renamed only when whole and checked, so a half-finished one leaves nothing
 * (start-up removes dot-files a stop cut off). In use: in some machine's CD-ROM drive.
 */
export class IsoService {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly settings: SettingsService,
    private readonly dir: string,
    private readonly machines: () => Promise<Machine[]>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start-up: uploads and downloads cut off by a stop leave nothing behind. */
  recover(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const e of fs.readdirSync(this.dir)) if (e.startsWith('.')) fs.rmSync(path.join(this.dir, e), { force: true, recursive: true });
  }

  async list(): Promise<Iso[]> {
    const machines = await this.machines();
    return (await listIsoRows(this.store)).map((r) => this.view(r, machines));
  }

  async get(name: string): Promise<Iso> {
    return this.view(await this.row(name), await this.machines());
  }

  /** The file of a library ISO, for a machine's drive. */
  async file(name: string): Promise<IsoFile> {
    const row = await this.row(name);
    return { name: row.name, path: resolveInside(this.dir, row.name) };
  }

  /** The most an ISO may be: the cap in Settings, and never more than the free space. */
  maxBytes(): number {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = fs.statfsSync(this.dir);
    return Math.max(0, Math.min(this.settings.get().isoMaxMib * 2 ** 20, st.bavail * st.bsize - RESERVE));
  }

  /** Where an upload is written first (a dot-file), and how big it may be. */
  uploadTarget(): { file: string; maxBytes: number } {
    return { file: resolveInside(this.dir, `.upload-${newId('iso')}`), maxBytes: this.maxBytes() };
  }

  /** An uploaded file: checked and kept under `name`, or removed (400 not an ISO, 409 the name is taken). */
  async addFile(p: Principal, file: string, name: string, label: string): Promise<Iso> {
    try {
      await this.free(name);
      const format = isoFormat(file);
      if (!format) throw new BadRequestError(`${label} is not an ISO 9660 or UDF image (no CD001, BEA01/NSR0x volume descriptors): nothing was kept.`);
      return await this.keep(p, file, name, format, `upload:${label}`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** An ISO the server downloads (http/https; private addresses only when Settings allow): checked up front, then a job with progress. */
  async addUrl(p: Principal, body: AddIsoUrlBody): Promise<Job> {
    await this.free(body.name);
    const allowPrivate = this.settings.get().downloadAllowPrivate;
    await resolveTarget(body.url, allowPrivate).catch((err: unknown) => {
      throw err instanceof TargetRefused ? new BadRequestError(`Refused: ${err.message}`, [{ path: 'url', message: 'refused' }]) : err;
    });
    const { job } = await this.jobs.start({ kind: 'iso.download', title: `Download ${body.name}`, ownerId: p.user.id }, async (ctx) => {
      const file = resolveInside(this.dir, `.download-${ctx.jobId}`);
      try {
        const max = this.maxBytes();
        ctx.log(`downloading ${body.url} (at most ${formatBytes(max)})`);
        await downloadIso(ctx, body.url, file, { max, allowPrivate, upTo: 95 });
        ctx.progress(96, 'Checking the volume descriptors');
        const format = isoFormat(file);
        if (!format) throw new Error(`${body.url} is not an ISO 9660 or UDF image: nothing was kept`);
        const iso = await this.keep(p, file, body.name, format, body.url);
        ctx.log(`kept ${iso.name}: ${format}, ${formatBytes(iso.sizeBytes)}`);
        return { iso: iso.name, sizeBytes: iso.sizeBytes, format };
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
    return job;
  }

  /** Delete an ISO no machine has in its drive. */
  async remove(name: string): Promise<void> {
    const iso = await this.get(name);
    if (iso.usedBy.length) throw new ConflictError(`${name} is in the CD-ROM drive of ${iso.usedBy.join(', ')}: eject it (or delete the machine) first.`);
    await deleteIsoRow(this.store, name);
    fs.rmSync(resolveInside(this.dir, name), { force: true });
  }

  private async row(name: string): Promise<IsoRow> {
    const row = await getIsoRow(this.store, name);
    if (!row) throw new NotFoundError(`ISO "${name}"`);
    return row;
  }

  private async free(name: string): Promise<void> {
    if (await getIsoRow(this.store, name)) throw new ConflictError(`An ISO named ${name} exists already; delete it first or choose another name.`);
  }

  private async keep(p: Principal, file: string, name: string, format: IsoRow['format'], source: string): Promise<Iso> {
    const target = resolveInside(this.dir, name);
    const row: IsoRow = { id: newId('iso'), name, sizeBytes: fs.statSync(file).size, format, source, createdBy: p.user.id, createdAt: this.now() };
    await insertIso(this.store, row).catch(() => {
      throw new ConflictError(`An ISO named ${name} exists already.`);
    });
    fs.renameSync(file, target);
    return this.view(row, []);
  }

  private view(r: IsoRow, machines: Machine[]): Iso {
    return {
      id: r.id,
      name: r.name,
      sizeBytes: r.sizeBytes,
      format: r.format,
      source: r.source,
      createdAt: r.createdAt,
      usedBy: machines.filter((m) => m.cdrom === r.name).map((m) => m.name),
    };
  }
}
