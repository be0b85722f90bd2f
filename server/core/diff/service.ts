import fs from 'node:fs';
import path from 'node:path';
import type { DiffResult, FileDiff } from '@/lib/contracts/diff';
import type { Machine } from '@/lib/contracts/machines';
import type { DiffSource } from '@/server/drivers/types';
import type { Principal } from '../auth';
import { BadRequestError, ConflictError, HangarError } from '../errors';
import type { MachineService } from '../machines';
import type { SnapshotService } from '../snapshots';
import { diffDisks, inodeOf, openDisk, type OpenDisk } from './disk-diff';
import { compare, escapePath, finish } from './meta';
import { diffLayers } from './overlay-diff';
import { OverlayView } from './overlay-view';
import { textDiff } from './text-diff';

interface Side {
  view: DiffResult['a'];
  driver: string;
  source: DiffSource;
  /** A machine's live files (not cached). */
  live: boolean;
}

export interface DiffQuery {
  limit: number;
  path?: string;
}

/** Snapshot diff: files added, removed and changed between two snapshots, or a machine now and a snapshot. */
export class DiffService {
  constructor(
    private readonly snapshots: SnapshotService,
    private readonly machines: MachineService,
  ) {}

  async betweenSnapshots(aRef: string, bRef: string, q: DiffQuery): Promise<DiffResult> {
    return this.compare(await this.snapshotSide(aRef), await this.snapshotSide(bRef), q);
  }

  /** The machine's files now against a snapshot (default: the one it runs on, its last checkpoint). */
  async sinceSnapshot(p: Principal, ref: string, against: string | undefined, q: DiffQuery): Promise<DiffResult> {
    const m = await this.machines.get(p, ref);
    const { spec } = await this.machines.spec(m.id);
    const snapRef = against ?? m.snapshotId;
    if (!snapRef) throw new ConflictError(`${m.name} has no snapshot to compare with: checkpoint it first, or name one with ?against=.`);
    const driver = this.machines.driver(m.driver);
    if (!driver.diffSource) throw new BadRequestError(`${m.driver} machines cannot be compared: ${this.noDiff(m.driver)}`);
    const now: Side = {
      view: { kind: 'machine', id: m.id, label: `${m.name} (now)`, image: m.image },
      driver: m.driver,
      source: await this.sourceOf(() => driver.diffSource!.machine(spec)),
      live: true,
    };
    return this.compare(await this.snapshotSide(snapRef), now, q);
  }

  /** Where a side's files are (a driver may have to ask its engine): a refusal there is the caller's 409, not a crash. */
  private async sourceOf(find: () => DiffSource | Promise<DiffSource>): Promise<DiffSource> {
    try {
      return await find();
    } catch (err) {
      throw new ConflictError(err instanceof Error ? err.message : String(err));
    }
  }

  private noDiff(driver: string): string {
    return `the ${driver} driver does not say where its files can be read`;
  }

  private async snapshotSide(ref: string): Promise<Side> {
    const row = await this.snapshots.resolve(ref);
    if (row.state !== 'complete') throw new ConflictError(`Snapshot "${row.label}" is ${row.state}: it has no files to compare.`);
    const driver = this.machines.driver(row.driver as Machine['driver']);
    if (!driver.diffSource) throw new BadRequestError(`Snapshot "${row.label}" cannot be compared: ${this.noDiff(row.driver)}.`);
    return {
      view: { kind: 'snapshot', id: row.id, label: row.label, image: row.image },
      driver: row.driver,
      source: await this.sourceOf(() => driver.diffSource!.snapshot(row.diskPath, JSON.parse(row.specJson) as Record<string, unknown>)),
      live: false,
    };
  }

  private async compare(a: Side, b: Side, q: DiffQuery): Promise<DiffResult> {
    if (a.driver !== b.driver || a.source.kind !== b.source.kind)
      throw new BadRequestError(`Cannot compare a ${a.driver} snapshot with a ${b.driver} one: their files are stored differently.`);
    const t0 = performance.now();
    const rel = q.path === undefined ? undefined : relPath(q.path);
    const head = { a: a.view, b: b.view, driver: a.driver, method: a.source.kind, sameImage: a.view.image === b.view.image };
    const found = await this.read(a, b, rel).catch((err: Error) => {
      if (err instanceof HangarError) throw err;
      // A damaged layer or a disk without a filesystem: name it; nothing stays mounted (the readers clean up).
      throw new ConflictError(`The files of "${a.view.label}" or "${b.view.label}" cannot be read: ${err.message}`);
    });
    const done = finish(found.entries, q.limit);
    return {
      ...head,
      ...done,
      walked: { entries: found.walked, skippedLayers: found.skippedLayers },
      elapsedMs: Math.round(performance.now() - t0),
      ...(found.file ? { file: found.file } : {}),
    };
  }

  private async read(
    a: Side,
    b: Side,
    rel: string | undefined,
  ): Promise<{ entries: DiffResult['entries']; walked: number; skippedLayers: number; file?: FileDiff }> {
    let found: { entries: DiffResult['entries']; walked: number; skippedLayers: number; file?: FileDiff };
    if (a.source.kind === 'layers' && b.source.kind === 'layers') {
      const mutable = new Set([a, b].filter((s) => s.live).flatMap((s) => (s.source.kind === 'layers' ? s.source.layers.slice(-1) : [])));
      const mtimeSlackMs = Math.max(a.source.mtimeSlackMs ?? 0, b.source.mtimeSlackMs ?? 0);
      found =
        rel === undefined
          ? await diffLayers(a.source.layers, b.source.layers, mutable, { mtimeSlackMs })
          : await this.layersFile(a.source.layers, b.source.layers, rel, mtimeSlackMs);
    } else if (a.source.kind === 'disk' && b.source.kind === 'disk') {
      found = await this.disks(a.source.disk, b.source.disk, rel);
    } else throw new BadRequestError('The two sides are stored differently.');
    return found;
  }

  private async layersFile(a: string[], b: string[], rel: string, mtimeSlackMs: number) {
    const va = new OverlayView(a, new Set());
    const vb = new OverlayView(b, new Set());
    const fa = va.lookup(rel);
    const fb = vb.lookup(rel);
    const shown = `/${escapePath(rel)}`;
    const e = compare(shown, fa?.meta ?? null, fb?.meta ?? null, mtimeSlackMs);
    const file = await textDiff(shown, fa?.meta.type === 'file' ? fa.abs : null, fb?.meta.type === 'file' ? fb.abs : null);
    return { entries: e ? [e] : [], walked: 2, skippedLayers: 0, file };
  }

  private async disks(a: string, b: string, rel: string | undefined) {
    const tmp = fs.mkdtempSync(path.join(this.snapshots.tmpDir(), 'diff-'));
    const opened: OpenDisk[] = [];
    try {
      for (const d of [a, b]) opened.push(await openDisk(d, tmp));
      const [da, db] = opened;
      if (rel === undefined) return { ...(await diffDisks(da, db)), skippedLayers: 0 };
      const shown = `/${escapePath(rel)}`;
      const files: (string | null)[] = [];
      for (const [i, d] of opened.entries()) {
        const e = await inodeOf(d, rel);
        if (!e || (e.mode & 0o170000) !== 0o100000) files.push(null);
        else {
          const out = path.join(tmp, `side-${i}`);
          if (e.size <= 64 * 1024) await d.reader.dump(e.ino, out);
          else fs.writeFileSync(out, Buffer.alloc(64 * 1024 + 1));
          files.push(out);
        }
      }
      const file = await textDiff(shown, files[0], files[1]);
      return { entries: [], walked: 2, skippedLayers: 0, file };
    } finally {
      for (const d of opened) await d.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/** A path inside the machine, relative, normalised; `..` cannot climb out of its root. */
function relPath(p: string): string {
  const rel = path.posix.normalize(`/${p}`).slice(1).replace(/\/+$/, '');
  if (!rel || rel.split('/').includes('..')) throw new BadRequestError(`Not a file path: "${p}"`);
  return rel;
}
