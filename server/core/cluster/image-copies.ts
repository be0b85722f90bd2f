import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '@/db/client';
import {
  allImageCopies,
  deleteImageCopy,
  getImageCopy,
  imageCopiesOf,
  insertImageCopy,
  nodeImageCopies,
  touchImageCopy,
  type ImageCopyRow,
} from '@/db/repo/image-copies';
import { getImageRow, listImages, type ImageRow } from '@/db/repo/images';
import { listMachineRows } from '@/db/repo/machines';
import { isOwnRow } from '@/db/repo/own';
import { nodeCopies } from '@/db/repo/snapshot-copies';
import { listSnapshotRows } from '@/db/repo/snapshots';
import { bootInfoSchema, imageBootSchema, type ImageBoot } from '@/lib/contracts/images';
import { ConflictError, UnavailableError } from '../errors';
import { packImage, unpackImage } from '../image-archive';
import { resolveInside } from '../paths';
import { RefCounts } from '../ref-counts';
import type { Cluster } from './cluster';
import { askToSweep, causeOf, sweepEvery, fetchFromNode, gibBudget, mib } from './transfer';

export const imageArchivePath = (imageId: string) => `/api/internal/images/${encodeURIComponent(imageId)}/archive`;
const imageBootPath = (imageId: string) => `/api/internal/images/${encodeURIComponent(imageId)}/boot`;
export const IMAGE_COPY_SWEEP_PATH = '/api/internal/image-copies/sweep';

export interface ImageCopyDeps {
  store: Store;
  cluster: Cluster;
  /** DATA/images: a copy lives where its build would (DATA/images/NAME), its row saying it is a copy. */
  dir: string;
  /** Scratch for archives being packed for another node. */
  tmp: () => string;
  rateBytes: number;
  /** What this node keeps of copies (HANGAR_IMAGE_COPY_BUDGET_GIB); past it, after a new copy, the least recently used unused ones go. */
  budgetBytes: number;
  now: () => number;
  /** OCI images: their layers in this node's c/storage (oci-images.ts), exported and imported by skopeo rather than packed as a dir. */
  oci?: OciCopies;
}

/** What copies of OCI images need of the OCI image service (each takes the image row's recipe). */
export interface OciCopies {
  has(recipe: unknown): boolean;
  exportCopy(recipe: unknown, file: string, scratch: string): Promise<void>;
  importCopy(recipe: unknown, file: string, scratch: string, signal?: AbortSignal): Promise<number>;
  remove(recipe: unknown): Promise<void>;
}

/** A copy of an OCI image has no dir of its own: its row names the image in this node's store by its digest. */
const OCI_COPY = 'oci-store:';
const recipeOf = (row: ImageRow): unknown => JSON.parse(row.recipeJson);
const ociDigestOf = (copyPath: string) => (copyPath.startsWith(OCI_COPY) ? copyPath.slice(OCI_COPY.length) : null);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** HANGAR_IMAGE_COPY_BUDGET_GIB: what a node keeps of images other nodes hold (default 20 GiB). */
export const imageCopyBudgetBytes = (env: Record<string, string | undefined> = process.env): number => gibBudget(env.HANGAR_IMAGE_COPY_BUDGET_GIB, 20);

/** Where a copy's progress goes: a job's log, or the server's when no job asked (a create's admission). */
export interface CopyReporter {
  log(line: string): void;
  progress?(pct: number, message: string): void;
  signal?: AbortSignal;
}

const SWEEP_MS = 60_000;

/**
 * Images held by another node, copied here when a machine here needs their files (a new machine
 * placed by load, a fork or a step-cache hit of a snapshot whose machine boots the image's kernel).
 * The holder packs the image dir (image-archive.ts) and streams it over the node-signed internal
 * route, the same transfer as snapshot replicas (transfer.ts); it is unpacked in a dot-dir, every
 * size and checksum checked, and renamed to DATA/images/NAME only when whole; the `image_copies`
 * row is what makes it used. A copy of an older build of the image (rebuilt since) is stale: it is
 * replaced at the next use. Deleting the image removes every copy (the holder asks the other
 * nodes; each node also sweeps, at start and every minute, copies whose image is gone or rebuilt).
 */
export class ImageCopyService {
  private readonly inflight = new Map<string, Promise<ImageCopyRow>>();
  /** Image names that work under way here stands on (a move to this node, before its row names this node), with counts. */
  private readonly held = new RefCounts<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: ImageCopyDeps) {}

  /** This node holds the image's own files (always, on one node). */
  holds(row: Pick<ImageRow, 'nodeId'>): boolean {
    return this.d.cluster.isLocal(row.nodeId);
  }

  /** The nodes that hold a copy of each image, by image id. */
  async nodesWithCopies(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!this.d.cluster.enabled) return out;
    for (const c of await allImageCopies(this.d.store)) out.set(c.imageId, [...(out.get(c.imageId) ?? []), c.nodeId]);
    return out;
  }

  /**
   * The image's dir on this node: its own, or this node's copy (made now when missing or stale). An OCI
   * image's copy is its layers in this node's store (the store's dir is returned): it is never stale, a
   * digest being one content, but it is made again when its layers went.
   */
  async localDir(row: ImageRow, report: CopyReporter = serverLog): Promise<string> {
    if (this.holds(row)) return row.path;
    const oci = this.ociOf(row);
    const self = this.d.cluster.self.id;
    let copy = await getImageCopy(this.d.store, row.id, self);
    // Pulled here too (the same digest): this node's store has it without a copy.
    if (!copy && oci?.has(recipeOf(row))) return row.path;
    const fresh = (c: ImageCopyRow) => (oci ? oci.has(recipeOf(row)) : c.imageUpdatedAt === row.updatedAt && fs.existsSync(c.path));
    if (copy && !fresh(copy)) {
      // Rebuilt since, or its files went (by hand): no copy.
      await this.removeCopy(copy);
      copy = undefined;
    }
    if (copy) {
      await touchImageCopy(this.d.store, row.id, self, this.d.now());
      return oci ? row.path : copy.path;
    }
    let making = this.inflight.get(row.id);
    if (making) report.log(`image "${row.name}" being copied to this node already: waiting for it`);
    else {
      making = this.transfer(row, report).finally(() => this.inflight.delete(row.id));
      this.inflight.set(row.id, making);
    }
    const made = await making;
    return oci ? row.path : made.path;
  }

  /**
   * Work under way here stands on the image though no machine row of this node names it yet (a machine moving here):
   * its copy is not evicted until the returned release is called (once; again does nothing).
   */
  hold(name: string): () => void {
    return this.held.take(name);
  }

  /** An OCI image this node neither pulled nor has a copy of in its store (a create copies it in its job). */
  ociMissing(row: ImageRow): boolean {
    return !this.holds(row) && this.ociOf(row)?.has(recipeOf(row)) === false;
  }

  /** The OCI copier when `row` is an OCI image (an error when this node has none), else undefined. */
  private ociOf(row: ImageRow): OciCopies | undefined {
    if (row.kind !== 'oci') return undefined;
    if (!this.d.oci) throw new UnavailableError(`Image "${row.name}" is an OCI image and this node keeps no OCI store.`);
    return this.d.oci;
  }

  /**
   * Past the budget: this node's copies, least recently used first, that nothing here uses. A copy is
   * used while a machine of this node names its image (a VM's disk chain and a container's lower dir
   * stand on its files), a snapshot taken here or copied here does (a fork or restore boots it), or
   * a move to this node holds it (`hold`).
   */
  async evict(keep: string, report: CopyReporter = serverLog): Promise<number> {
    const self = this.d.cluster.self.id;
    const copies = (await nodeImageCopies(this.d.store, self)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    let total = copies.reduce((n, c) => n + c.bytes, 0);
    if (total <= this.d.budgetBytes) return 0;
    const names = new Map((await listImages(this.d.store)).map((i) => [i.id, i.name]));
    const replicas = new Set((await nodeCopies(this.d.store, self)).map((c) => c.snapshotId));
    const used = new Set([
      ...(await listMachineRows(this.d.store)).filter((m) => isOwnRow(this.d.store, m.nodeId)).map((m) => m.image),
      ...(await listSnapshotRows(this.d.store)).filter((sn) => isOwnRow(this.d.store, sn.nodeId) || replicas.has(sn.id)).map((sn) => sn.image),
    ]);
    let removed = 0;
    for (const c of copies) {
      if (total <= this.d.budgetBytes) break;
      const name = names.get(c.imageId);
      if (c.imageId === keep || this.inflight.has(c.imageId) || (name !== undefined && (used.has(name) || this.held.has(name)))) continue;
      await this.removeCopy(c);
      total -= c.bytes;
      removed++;
      report.log(
        `image copy budget (${mib(this.d.budgetBytes)} MiB): the least recently used copy (image "${name ?? c.imageId}", ${mib(c.bytes)} MiB) removed`,
      );
    }
    return removed;
  }

  private async transfer(row: ImageRow, report: CopyReporter): Promise<ImageCopyRow> {
    if (!row.nodeId) throw new ConflictError(`Image "${row.name}" names no node that holds it.`);
    const from = this.d.cluster.requireOnline(row.nodeId);
    const self = this.d.cluster.self;
    const oci = this.ociOf(row);
    fs.mkdirSync(this.d.dir, { recursive: true, mode: 0o700 });
    const digest = String((recipeOf(row) as { digest?: unknown }).digest);
    if (oci && !DIGEST.test(digest)) throw new ConflictError(`Image "${row.name}" names no digest.`);
    const dest = oci ? `${OCI_COPY}${digest}` : resolveInside(this.d.dir, row.name);
    // A dot-dir: the start-up pass of the images dir and the sweep remove one a stop cut off.
    const part = resolveInside(this.d.dir, `.copy-${row.id}.${randomBytes(6).toString('hex')}.part`);
    fs.mkdirSync(part, { mode: 0o700 });
    const reason = (why: string) => new UnavailableError(`Copying image "${row.name}" from node ${from.name} failed: ${why}`);
    try {
      report.log(`image "${row.name}" is held by node ${from.name}: copying it to node ${self.name}`);
      const t0 = performance.now();
      const archive = path.join(part, 'archive.tar');
      const got = await fetchFromNode({
        cluster: this.d.cluster,
        from,
        pathAndQuery: imageArchivePath(row.id),
        file: archive,
        signal: report.signal ?? AbortSignal.timeout(30 * 60_000),
        rateBytes: this.d.rateBytes,
        progress: (pct, message) => report.progress?.(pct, message),
        log: (line) => report.log(`image ${line}`),
        reason,
      });
      report.log(`image "${row.name}": received ${mib(got)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s; checking sizes and checksums`);
      const unpack = oci
        ? // Into this node's store, kept only when its config and layer digests are the ones the row recorded at the pull.
          () => oci.importCopy(recipeOf(row), archive, part, report.signal)
        : () => {
            // No row names it (checked by the caller), so whatever is there is a leftover a failed removal kept.
            fs.rmSync(dest, { recursive: true, force: true });
            return unpackImage(archive, path.join(part, 'work'), dest, row);
          };
      const bytes = await unpack().catch((err: Error) => {
        throw reason(err.message);
      });
      const now = this.d.now();
      const copy: ImageCopyRow = { imageId: row.id, nodeId: self.id, path: dest, imageUpdatedAt: row.updatedAt, bytes, createdAt: now, lastUsedAt: now };
      try {
        await insertImageCopy(this.d.store, copy);
      } catch (err) {
        await this.removeFiles(copy);
        throw err;
      }
      const still = await getImageRow(this.d.store, { id: row.id });
      // An OCI image's row changes when a ref is added to it, its digest (its content) never.
      if (!still || (!oci && still.updatedAt !== row.updatedAt)) {
        await this.removeCopy(copy);
        throw new ConflictError(`Image "${row.name}" was deleted or rebuilt during the copy.`);
      }
      report.log(`image "${row.name}" copied to node ${self.name} (${mib(bytes)} MiB): machines here use the copy`);
      await this.evict(row.id, report).catch((err: Error) => report.log(`image copy budget: ${err.message}`));
      return copy;
    } finally {
      fs.rmSync(part, { recursive: true, force: true });
    }
  }

  /**
   * A node without the image's files yet: where its copy will be and how it boots (asked of its
   * holder), so a create is checked now and copies in its job. Null when this node holds them (its
   * own, or a copy of this build already).
   */
  async pending(row: ImageRow): Promise<{ dir: string; boot: ImageBoot } | null> {
    if (this.holds(row)) return null;
    const copy = await getImageCopy(this.d.store, row.id, this.d.cluster.self.id);
    if (copy && copy.imageUpdatedAt === row.updatedAt && fs.existsSync(copy.path)) return null;
    const holder = row.nodeId;
    if (!holder) throw new ConflictError(`Image "${row.name}" names no node that holds it.`);
    const at = imageBootPath(row.id);
    const ask = () => {
      const from = this.d.cluster.requireOnline(holder);
      return fetch(from.url.replace(/\/+$/, '') + at, { headers: this.d.cluster.sign('GET', at), signal: AbortSignal.timeout(30_000) });
    };
    let res: Response;
    try {
      // Asked again once after a fresh read of the nodes: a holder that restarted since the last heartbeat has a new address.
      res = await ask().catch(async () => (await this.d.cluster.registry?.tick(), ask()));
    } catch (err) {
      const name = this.d.cluster.registry?.byId.get(holder)?.name ?? holder;
      throw new UnavailableError(`node ${name}, which holds image "${row.name}", did not answer (${causeOf(err)})`);
    }
    const from = this.d.cluster.requireOnline(holder);
    if (!res.ok) throw new UnavailableError(`node ${from.name}, which holds image "${row.name}", answered HTTP ${res.status}`);
    return { dir: resolveInside(this.d.dir, row.name), boot: imageBootSchema.parse(await res.json()) };
  }

  /** The holder's side of `pending`: its boot.json (null: built before there was one) and whether it keeps a root filesystem. */
  async bootOf(row: ImageRow): Promise<ImageBoot> {
    if (!this.holds(row)) throw new ConflictError('This node does not hold that image (ask the node that made it).');
    const boot = await fs.promises
      .readFile(path.join(row.path, 'boot.json'), 'utf8')
      .then((t) => bootInfoSchema.parse(JSON.parse(t)))
      .catch(() => null);
    return { boot, rootfs: fs.existsSync(path.join(row.path, 'rootfs')) };
  }

  /** The holder's side: the image's archive in a file under tmp (the route streams it, then removes it). */
  async pack(row: ImageRow): Promise<string> {
    if (!this.holds(row)) throw new ConflictError('This node does not hold that image (ask the node that made it).');
    if (row.state !== 'ready') throw new ConflictError(`Image "${row.name}" is ${row.state}.`);
    const tag = randomBytes(6).toString('hex');
    const out = path.join(this.d.tmp(), `image-${row.id}-${tag}.tar`);
    const scratch = path.join(this.d.tmp(), `.image-${row.id}-${tag}`);
    const oci = this.ociOf(row);
    try {
      if (oci) {
        // skopeo's scratch: removed here (packImage removes its own).
        fs.mkdirSync(scratch, { mode: 0o700 });
        await oci.exportCopy(recipeOf(row), out, scratch).finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
      } else await packImage(row, row.path, scratch, out);
    } catch (err) {
      fs.rmSync(out, { force: true });
      throw err;
    }
    return out;
  }

  private async removeCopy(c: ImageCopyRow): Promise<void> {
    // Row first: a copy without its row is never used.
    await deleteImageCopy(this.d.store, c.imageId, c.nodeId);
    await this.removeFiles(c);
  }

  /** A copy's files: its dir, or an OCI image's layers in this node's store (layers other images share stay). */
  private async removeFiles(c: Pick<ImageCopyRow, 'path'>): Promise<void> {
    const digest = ociDigestOf(c.path);
    if (digest === null) fs.rmSync(c.path, { recursive: true, force: true });
    else if (DIGEST.test(digest)) await this.d.oci?.remove({ digest });
  }

  /** This node's copies of images that are gone or rebuilt: removed. Returns how many. */
  async sweep(): Promise<number> {
    if (!this.d.cluster.enabled) return 0;
    const busy = new Set(this.inflight.keys());
    const images = new Map((await listImages(this.d.store)).map((i) => [i.id, i]));
    let removed = 0;
    for (const c of await nodeImageCopies(this.d.store, this.d.cluster.self.id)) {
      if (busy.has(c.imageId)) continue;
      const img = images.get(c.imageId);
      // An OCI image's copy is one digest's content: it goes with its image only.
      if (img && (img.updatedAt === c.imageUpdatedAt || ociDigestOf(c.path) !== null)) continue;
      // Rebuilt on this node: the new build is in the same dir (DATA/images/NAME), so only the row goes.
      const row = img && (await getImageRow(this.d.store, { id: img.id }));
      if (row && this.holds(row)) await deleteImageCopy(this.d.store, c.imageId, c.nodeId);
      else await this.removeCopy(c);
      removed++;
    }
    return removed;
  }

  /** After a delete on the holder: each online node with a copy removes it (awaited); an offline one at its next sweep. */
  async dropGone(imageId: string): Promise<void> {
    if (!this.d.cluster.enabled) return;
    const nodes = new Set((await imageCopiesOf(this.d.store, imageId)).map((c) => c.nodeId));
    if (nodes.delete(this.d.cluster.self.id)) await this.sweep();
    await askToSweep(this.d.cluster, nodes, IMAGE_COPY_SWEEP_PATH, `copy of image ${imageId}`);
  }

  start(): void {
    if (!this.d.cluster.enabled || this.timer) return;
    this.timer = sweepEvery(SWEEP_MS, 'image copy sweep', () => this.sweep());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

const serverLog: CopyReporter = { log: (line) => console.log(`image copies: ${line}`) };
