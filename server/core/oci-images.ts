import fs from 'node:fs';
import path from 'node:path';
import type { Image, PullImageBody, PullResult } from '@/lib/contracts/images';
import type { Job } from '@/lib/contracts/jobs';
import { formatBytes } from '@/lib/format';
import type { Store } from '@/db/client';
import { getImageRow, insertImage, listImages, updateImage } from '@/db/repo/images';
import { keptConfig, type OciImageConfig } from '@/server/drivers/oci/bundle';
import { parseImageRef, RefError, type ImageRef } from '@/server/drivers/oci/ref';
import {
  copyToStore,
  deleteFromStore,
  exportFromStore,
  importToStore,
  resolveImage,
  SkopeoError,
  touchStore,
  type ResolvedImage,
} from '@/server/drivers/oci/skopeo';
import { imageLayers, prepareStore, type OciPaths } from '@/server/drivers/oci/store';
import type { BootFiles, OciPullSource } from '@/server/drivers/types';
import type { Principal } from './auth';
import { BadRequestError, ConflictError } from './errors';
import type { EventBus } from './events';
import { newId } from './ids';
import type { JobContext, JobRunner } from './jobs';
import { importOciArchive } from './oci-archive-import';
import { ociFailure } from './oci-errors';
import { checkSpace, freeBytes, RESERVE } from './oci-space';
import { collectOciGarbage } from './oci-gc';
import { resolveInside } from './paths';
import type { RegistryService } from './registries';
import type { SettingsService } from './settings';

/** What an OCI image row keeps in its recipe: where it came from, what it is, and its config. */
export type OciRecipe = {
  source: string;
  refs: string[];
  digest: string;
  indexDigest: string | null;
  configDigest: string;
  architecture: string;
  os: string;
  created: string | null;
  layers: { digest: string; diffDigest: string; size: number; compressedSize: number }[];
  config: OciImageConfig;
};

/**
 * Images from registries: skopeo copies each manifest (by digest) into Hangar's own
 * containers-storage, which unpacks each layer once (whiteouts as overlay whiteouts) and shares
 * layers between images. Each digest is one Hangar image (`oci-<12 hex>`), whatever refs named it.
 */
export class OciImageService {
  /** Manifest digests being copied into the store now: not garbage. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly settings: SettingsService,
    readonly paths: OciPaths,
    private readonly registries: RegistryService,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start-up: the fixed files, an empty run root, and scratch dirs of pulls cut off by a stop removed. */
  recover(): void {
    prepareStore(this.paths);
    for (const e of fs.readdirSync(this.paths.tmp))
      if (/^(pull|import|auth|login)-/.test(e)) fs.rmSync(resolveInside(this.paths.tmp, e), { recursive: true, force: true });
    // c/storage sets up its overlay driver (its checks, the run root's locks, its private mount of the store) on its
    // first use after a start: for a store that has been used, done now in the background, so the first pull after a
    // restart does not wait ~0.4 s for it. A store never used is left alone until its first pull.
    if (fs.existsSync(path.join(this.paths.storage, 'overlay'))) void touchStore(this.paths).catch(() => undefined);
  }

  private parse(raw: string): ImageRef {
    try {
      return parseImageRef(raw, this.settings.get().defaultRegistry);
    } catch (err) {
      if (err instanceof RefError) throw new BadRequestError(err.message, [{ path: 'ref', message: 'an image reference' }]);
      throw err;
    }
  }

  async ociRows(): Promise<(Image & { recipe: OciRecipe })[]> {
    return (await listImages(this.store)).filter((i): i is Image & { recipe: OciRecipe } => i.kind === 'oci' && i.state === 'ready');
  }

  /** The image a ref names (one of its refs, or its digest), pulled on whichever node. */
  private named(rows: (Image & { recipe: OciRecipe })[], ref: ImageRef) {
    return rows.find((r) => r.recipe.refs.includes(ref.full) || (ref.digest && r.recipe.digest === ref.digest));
  }

  /** The image a ref names whose layers are in this node's store: what a pull `missing` reuses. */
  private here(rows: (Image & { recipe: OciRecipe })[], ref: ImageRef) {
    const hit = this.named(rows, ref);
    return hit && imageLayers(this.paths, hit.recipe.digest) ? hit : undefined;
  }

  /** The name of the image `raw` names when it is pulled here already (`hangar run REF` without a pull request first), else null. */
  async pulledName(raw: string): Promise<string | null> {
    return this.here(await this.ociRows(), this.parse(raw))?.name ?? null;
  }

  /** A finished job for an image that is here already (the warm pull), its ref added to the names it answers to. */
  async reuse(p: Principal, ref: ImageRef, img: Image & { recipe: OciRecipe }, names = [ref.full]): Promise<Job> {
    // Answered finished: `hangar run` of a pulled image waits for nothing.
    const { done } = await this.jobs.start({ kind: 'image.pull', title: `Pull ${ref.full}`, ownerId: p.user.id }, async (ctx) => {
      await this.addRefs(img, names);
      ctx.log(`${ref.full} is ${img.recipe.digest}, already here as image ${img.name}: nothing copied`);
      ctx.progress(100, 'Already pulled');
      return { image: img.name, digest: img.recipe.digest, ref: ref.full, reused: true, sizeBytes: img.sizeBytes } satisfies PullResult;
    });
    return done;
  }

  /** The refs an image answers to, `names` added. */
  private async addRefs(img: Image & { recipe: OciRecipe }, names: string[]): Promise<void> {
    const added = names.filter((n) => !img.recipe.refs.includes(n));
    if (!added.length) return;
    const done = await updateImage(this.store, img.id, { updatedAt: this.now(), recipe: { ...img.recipe, refs: [...img.recipe.refs, ...added] } });
    if (done) this.bus.publish('image:update', done);
  }

  /**
   * A cluster: an image another node pulled, its layers copied into this node's store in `ctx`'s job
   * (ImageService.copyHere: an `image_copies` row, under the copy budget, swept with the image).
   */
  copyHere?: (name: string, ctx: JobContext) => Promise<void>;

  /**
   * A pull of an image another node pulled already: its layers copied from that node, as a create here would (the same
   * bytes, checked by digest, tracked as this node's copy), not fetched from the registry again. When no node can give
   * them (the holder offline, its layers gone), `fallback` pulls from the registry in the same job.
   */
  private async fromNode(p: Principal, ref: ImageRef, row: Image & { recipe: OciRecipe }, fallback: (ctx: JobContext) => Promise<PullResult>): Promise<Job> {
    const copyHere = this.copyHere!;
    const { job } = await this.jobs.start({ kind: 'image.pull', title: `Pull ${ref.full}`, ownerId: p.user.id }, async (ctx) => {
      try {
        await copyHere(row.name, ctx);
        if (!imageLayers(this.paths, row.recipe.digest)) throw new Error('no node has its layers');
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        ctx.log(`image ${row.name} not copied from another node (${err instanceof Error ? err.message : String(err)}): pulling it from ${ref.registry}`);
        return fallback(ctx);
      }
      await this.addRefs(row, [ref.full]);
      ctx.log(`${ref.full} is ${row.recipe.digest}: image ${row.name} copied from the node that pulled it, not fetched from the registry again`);
      ctx.progress(100, 'Copied from another node');
      return { image: row.name, digest: row.recipe.digest, ref: ref.full, reused: true, sizeBytes: row.sizeBytes } satisfies PullResult;
    });
    return job;
  }

  /** Resolved and copied from the registry inside a job (a pull whose copy from another node failed). */
  private async pullIn(ctx: JobContext, ref: ImageRef): Promise<PullResult> {
    const access = await this.registries.access(ref.registry);
    let img: ResolvedImage;
    try {
      img = await resolveImage(this.paths, ref, access, access.creds, ctx.signal);
    } catch (err) {
      throw err instanceof SkopeoError ? new Error(err.message) : err;
    }
    this.checkSpace(ref, img);
    return this.copy(ctx, ref, img, access);
  }

  /**
   * Checked before the job starts, so a bad pull is an HTTP error: the ref, the registry's
   * answer (unknown image, credentials, TLS), this host's platform, and room for the layers.
   */
  async pull(p: Principal, body: PullImageBody): Promise<Job> {
    const ref = this.parse(body.ref);
    const rows = await this.ociRows();
    if (body.policy === 'missing') {
      const hit = this.here(rows, ref);
      if (hit) return this.reuse(p, ref, hit);
      // Pulled by another node: its copy, not the registry's (asked only when no node can give it).
      const elsewhere = this.named(rows, ref);
      if (elsewhere && this.copyHere) return this.fromNode(p, ref, elsewhere, (ctx) => this.pullIn(ctx, ref));
    }
    const access = await this.registries.access(ref.registry);
    let img: ResolvedImage;
    try {
      img = await resolveImage(this.paths, ref, access, access.creds);
    } catch (err) {
      throw err instanceof SkopeoError ? ociFailure(err) : err;
    }
    const known = rows.find((r) => r.recipe.digest === img.digest);
    if (known && imageLayers(this.paths, img.digest)) return this.reuse(p, ref, known);
    this.checkSpace(ref, img);
    // The registry's digest is one another node pulled: copied from it.
    if (known && this.copyHere) return this.fromNode(p, ref, known, (ctx) => this.copy(ctx, ref, img, access));
    return this.startCopy(p, `Pull ${ref.full}`, ref, img, access);
  }

  /** Room for the layers the store lacks, before anything is fetched: see oci-space. */
  checkSpace(ref: ImageRef, img: ResolvedImage): void {
    checkSpace(this.paths, ref, img, this.settings.get().imagePullMaxMib);
  }

  /** Where an uploaded archive is written (the store's tmp, removed after its import or at start-up), and how big it may be. */
  uploadTarget(): { file: string; maxBytes: number } {
    return { file: resolveInside(this.paths.tmp, `import-${newId('job')}.tar`), maxBytes: Math.max(0, freeBytes(this.paths) - RESERVE) };
  }

  /** An uploaded archive (docker save, podman save, an OCI layout in a tar) into the store: see oci-archive-import. */
  importArchive(p: Principal, file: string, label: string): Promise<Job> {
    return importOciArchive(this, this.settings.get().defaultRegistry, p, file, label);
  }

  /** Images in the store no row names, and the layers only they use: see oci-gc. */
  gc(): Promise<{ removed: number; freedBytes: number }> {
    return collectOciGarbage(this.store, this.paths, this.inFlight);
  }

  /** The copy as a job (after: run once it ends, either way). */
  async startCopy(
    p: Principal,
    title: string,
    ref: ImageRef,
    img: ResolvedImage,
    access: Awaited<ReturnType<RegistryService['access']>>,
    names = [ref.full],
    after: () => void = () => {},
  ): Promise<Job> {
    const { job } = await this.jobs.start({ kind: 'image.pull', title, ownerId: p.user.id }, (ctx) => this.copy(ctx, ref, img, access, names).finally(after));
    return job;
  }

  private async copy(
    ctx: JobContext,
    ref: ImageRef,
    img: ResolvedImage,
    access: Awaited<ReturnType<RegistryService['access']>>,
    names = [ref.full],
  ): Promise<PullResult> {
    const scratch = resolveInside(this.paths.tmp, `pull-${ctx.jobId}`);
    fs.mkdirSync(scratch, { recursive: true, mode: 0o700 });
    this.inFlight.add(img.digest);
    const total = img.layers.reduce((a, l) => a + l.size, 0) || 1;
    const got = new Map<string, number>();
    const short = new Map(img.layers.map((l, i) => [l.digest.replace(/^sha256:/, '').slice(0, 12), i]));
    let last = 0;
    ctx.log(`${ref.full} is ${img.digest}: ${img.layers.length} layers, ${formatBytes(total)} to copy`);
    try {
      await copyToStore(this.paths, ref, img.digest, access, {
        tmp: scratch,
        creds: access.creds,
        signal: ctx.signal,
        progress: {
          line: (l) => ctx.log(l),
          blob: (s, bytes, done) => {
            const i = short.get(s);
            if (i === undefined) return;
            const size = img.layers[i].size;
            got.set(s, done ? size : Math.min(bytes, size));
            const now = Date.now();
            if (!done && now - last < 200) return;
            last = now;
            const sum = [...got.values()].reduce((a, b) => a + b, 0);
            const msg = `Layer ${i + 1}/${img.layers.length} ${s}: ${done ? 'done' : `${formatBytes(got.get(s)!)} / ${formatBytes(size)}`}`;
            ctx.progress(Math.min(90, 5 + Math.floor((85 * sum) / total)), msg);
            // A finished layer stays in the job's log: a quick pull's progress messages may all pass before a watcher looks.
            if (done) ctx.log(msg);
          },
        },
      });
      ctx.progress(92, `Unpacked ${img.layers.length} layers`);
      const stored = imageLayers(this.paths, img.digest);
      if (!stored) throw new Error(`skopeo finished, but the store has no image ${img.digest}`);
      // c/storage does not compare what it unpacked with the config's diff_ids: Hangar does.
      const diffIds = ((img.config.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []).map(String);
      const have = stored.layers.map((l) => l.diffDigest);
      if (diffIds.length !== have.length || diffIds.some((d, i) => d !== have[i])) {
        await deleteFromStore(this.paths, img.digest);
        throw new Error(`the layers of ${ref.full} do not match its config (diff_ids): nothing was imported`);
      }
      return await this.record(ctx, ref, img, stored.layers, total, names);
    } catch (err) {
      await touchStore(this.paths);
      throw err instanceof SkopeoError ? new Error(err.message) : err;
    } finally {
      this.inFlight.delete(img.digest);
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  private async record(
    ctx: JobContext,
    ref: ImageRef,
    img: ResolvedImage,
    stored: { diffDigest: string; size: number }[],
    compressed: number,
    names: string[],
  ): Promise<PullResult> {
    const name = `oci-${img.digest.replace(/^sha256:/, '').slice(0, 12)}`;
    const sizeBytes = stored.reduce((a, l) => a + l.size, 0);
    const recipe: OciRecipe = {
      source: ref.full,
      refs: names,
      digest: img.digest,
      indexDigest: img.indexDigest,
      configDigest: img.configDigest,
      architecture: String(img.config.architecture ?? ''),
      os: String(img.config.os ?? ''),
      created: typeof img.config.created === 'string' ? img.config.created : null,
      layers: img.layers.map((l, i) => ({ digest: l.digest, diffDigest: stored[i]?.diffDigest ?? '', size: stored[i]?.size ?? 0, compressedSize: l.size })),
      config: keptConfig(img.config),
    };
    const now = this.now();
    const existing = await getImageRow(this.store, { name });
    if (existing && existing.kind !== 'oci') throw new ConflictError(`An image named ${name} exists already.`);
    const row = existing
      ? await updateImage(this.store, existing.id, { state: 'ready', sizeBytes, updatedAt: now, recipe })
      : await insertImage(this.store, {
          id: newId('img'),
          name,
          kind: 'oci',
          state: 'ready',
          sizeBytes,
          recipe,
          createdAt: now,
          updatedAt: now,
          path: this.paths.storage,
        });
    if (row) this.bus.publish('image:update', row);
    ctx.log(`image ${name}: ${stored.length} layers, ${formatBytes(sizeBytes)} unpacked (${formatBytes(compressed)} compressed)`);
    ctx.progress(100, `Pulled ${ref.full}`);
    return { image: name, digest: img.digest, ref: ref.full, reused: false, sizeBytes };
  }

  /**
   * What a driver runs an image on: the shim as root, the image's layers over it, and its config;
   * with `pull` (drivers whose description has `ociPull`), where the driver pulls it itself; no layers
   * yet with `later` (copied from another node in a create's job).
   */
  files(row: { name: string; recipe: unknown }, opts: { pull?: boolean; later?: boolean } = {}): BootFiles {
    const recipe = row.recipe as OciRecipe;
    const pull = opts.pull ? this.pullSource(row.name, recipe) : undefined;
    const stored = imageLayers(this.paths, recipe.digest);
    // `later`: another node has it and a create's job copies it here (its layers asked for again then).
    if (!stored && !pull && !opts.later) throw new ConflictError(`The layers of image ${row.name} are gone from the store: pull ${recipe.source} again.`);
    return {
      image: row.name,
      kind: 'oci',
      kernel: '',
      initrd: '',
      disk: '',
      append: '',
      ssh: false,
      diskBytes: 0,
      rootfs: this.paths.shim,
      oci: { layers: stored?.layers.map((l) => l.dir) ?? [], config: recipe.config, ...(pull ? { pull } : {}) },
    };
  }

  /** The image on the registry it was pulled from, by its digest, with that registry's TLS switch, CA and credentials (in a file per call). */
  private pullSource(name: string, recipe: OciRecipe): OciPullSource {
    if (/^(oci|docker)-archive:/.test(recipe.source))
      throw new BadRequestError(`Image ${name} was imported from an archive (${recipe.source}), not pulled from a registry: this driver pulls images itself.`, [
        { path: 'image', message: 'an image pulled from a registry' },
      ]);
    const ref = parseImageRef(recipe.source, this.settings.get().defaultRegistry);
    const registry = ref.registry;
    return {
      ref: `${ref.registry}/${ref.repository}@${recipe.digest}`,
      registry,
      withAccess: async (fn) => {
        const access = await this.registries.access(registry);
        return this.registries.withAuthFile(registry, (authFile) => fn({ ...access, authFile }));
      },
    };
  }

  /** This node's store holds the image's layers. */
  has(recipe: unknown): boolean {
    return imageLayers(this.paths, (recipe as OciRecipe).digest) !== null;
  }

  /** The image as a docker-archive in `file` (plain layers), for another node's copy (cluster/image-copies.ts). */
  exportCopy(recipe: unknown, file: string, scratch: string): Promise<void> {
    return exportFromStore(this.paths, (recipe as OciRecipe).digest, file, scratch);
  }

  /**
   * Another node's archive of the image (exportCopy) into this node's store, kept only when what c/storage
   * unpacked is what the image's row recorded at its pull: the config digest (the image's id) and each
   * layer's diff digest, in order. Returns the unpacked bytes.
   */
  async importCopy(recipe: unknown, file: string, scratch: string, signal?: AbortSignal): Promise<number> {
    const r = recipe as OciRecipe;
    this.inFlight.add(r.digest);
    try {
      await importToStore(this.paths, r.digest, file, scratch, signal).catch(async (err: unknown) => {
        await touchStore(this.paths);
        throw err;
      });
      const stored = imageLayers(this.paths, r.digest);
      const want = r.layers.map((l) => l.diffDigest);
      const have = stored?.layers.map((l) => l.diffDigest) ?? [];
      if (!stored || `sha256:${stored.id}` !== r.configDigest || want.length !== have.length || want.some((d, i) => d !== have[i])) {
        await deleteFromStore(this.paths, r.digest);
        throw new Error(`the copy of image ${r.digest} is not the image its row recorded (config or layer digests differ): nothing was kept`);
      }
      return stored.layers.reduce((a, l) => a + l.size, 0);
    } finally {
      this.inFlight.delete(r.digest);
    }
  }

  /** The image out of the store (layers other images share stay). */
  remove(recipe: unknown): Promise<void> {
    return deleteFromStore(this.paths, (recipe as OciRecipe).digest);
  }
}
