import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { imageKinds, type Image } from '@/lib/contracts/images';
import type { PublishImageBody, PublishResult, PullPublishedBody, PullPublishedResult } from '@/lib/contracts/image-publish';
import { publishedManifestSchema, type PublishedManifest } from '@/lib/contracts/image-publish';
import type { Job } from '@/lib/contracts/jobs';
import { formatBytes } from '@/lib/format';
import type { Store } from '@/db/client';
import { deleteImage, getImageRow, insertImage, updateImage } from '@/db/repo/images';
import { extractTarball, scanTarball } from '@/server/drivers/rootfs/extract';
import { KEEP_ROOTFS } from '@/server/drivers/shared/rootfs-tar';
import { removeTree } from '@/server/drivers/shared/tree';
import type { Principal } from './auth';
import type { BackupTargetService } from './backups/targets';
import { BadRequestError, ConflictError, NotFoundError } from './errors';
import type { EventBus } from './events';
import { guardedGet, resolveTarget } from './guarded-fetch';
import { newId } from './ids';
import { fingerprintOf, ImageSigner, verifySignature } from './image-signing';
import type { JobContext, JobRunner } from './jobs';
import { resolveInside } from './paths';
import type { SettingsService } from './settings';

/** Free space the data dir keeps beyond a pull. */
const RESERVE = 512 * 2 ** 20;
const MAX_MANIFEST = 64 * 1024;
/** Kinds a published image may have here: the recipes' and imported root filesystems (registry images go through registries). */
const PUBLISHABLE = new Set<string>([...imageKinds, 'rootfs']);

/** Where a pull reads objects: a backup target's store, or an http(s) base URL it is served under. */
interface Source {
  label: string;
  get(key: string, maxBytes: number, signal?: AbortSignal): Promise<Readable>;
  close(): void;
}

async function readSmall(src: Source, key: string, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of await src.get(key, maxBytes)) {
    n += (c as Buffer).length;
    if (n > maxBytes) throw new Error(`${key} on ${src.label} is over ${formatBytes(maxBytes)}`);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/**
 * The image server (the nspawn seed's IMAGE/PULL/PUSH): an image published to a backup target
 * as `images/NAME/VERSION/` (the image directory as one gzip tar, and a manifest with its SHA-256
 * and size, signed with this Hangar's Ed25519 key), and `images/NAME/latest` naming the newest;
 * another Hangar that trusts the key pulls it from the target or from a URL the target is served
 * under, checking the signature, then the size and SHA-256 while downloading, then every tar
 * entry, before the image exists. A failed pull leaves no image and no file.
 */
export class ImagePublishService {
  readonly signer: ImageSigner;

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly settings: SettingsService,
    private readonly targets: BackupTargetService,
    private readonly dirs: { images: string; keys: string },
    private readonly now: () => number = Date.now,
  ) {
    this.signer = new ImageSigner(dirs.keys);
  }

  signingKey() {
    const publicKey = this.signer.publicKey();
    return { publicKey, fingerprint: fingerprintOf(publicKey) };
  }

  async publish(p: Principal, name: string, body: PublishImageBody): Promise<Job> {
    const row = await getImageRow(this.store, { name });
    if (!row) throw new NotFoundError(`Image "${name}"`);
    if (row.state !== 'ready') throw new ConflictError(`Image ${name} is ${row.state}: publish it once it is ready.`);
    if (!PUBLISHABLE.has(row.kind) || !row.path) throw new ConflictError(`${row.kind} images are not published here: push them to a registry.`);
    const target = await this.targets.row(body.target);
    const version = body.version ?? new Date(this.now()).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const base = `images/${name}/${version}`;
    const open = this.targets.open(target);
    try {
      if ((await open.store.head(`${base}/manifest.json`)) !== null)
        throw new ConflictError(`${name} ${version} is on ${target.name} already: choose another version.`);
    } finally {
      open.close();
    }
    const { job } = await this.jobs.start({ kind: 'image.publish', title: `Publish ${name} ${version} to ${target.name}`, ownerId: p.user.id }, (ctx) =>
      this.upload(ctx, { name, kind: row.kind, dir: row.path, sizeBytes: row.sizeBytes, recipe: JSON.parse(row.recipeJson) }, target, version),
    );
    return job;
  }

  private async upload(
    ctx: JobContext,
    img: { name: string; kind: string; dir: string; sizeBytes: number; recipe: Record<string, unknown> },
    target: Parameters<BackupTargetService['open']>[0],
    version: string,
  ): Promise<PublishResult> {
    const open = this.targets.open(target);
    const base = `images/${img.name}/${version}`;
    const key = `${base}/image.tar.gz`;
    try {
      ctx.log(`packing ${img.dir} (${formatBytes(img.sizeBytes)}) as ${key} on ${target.name}`);
      const tar = spawn('tar', ['-C', img.dir, ...KEEP_ROOTFS, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      tar.stderr.on('data', (b: Buffer) => (stderr = (stderr + String(b)).slice(-2000)));
      const exited = new Promise<number>((r) => tar.on('close', (code) => r(code ?? 1)));
      const hash = createHash('sha256');
      let size = 0;
      let raw = 0;
      let last = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _e, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      tar.stdout.on('data', (b: Buffer) => {
        raw += b.length;
        if (Date.now() - last > 300 && img.sizeBytes > 0) {
          last = Date.now();
          ctx.progress(Math.min(90, Math.floor((90 * raw) / img.sizeBytes)), `Sent ${formatBytes(raw)} of ${formatBytes(img.sizeBytes)}`);
        }
      });
      const body = tar.stdout.pipe(createGzip({ level: 1 })).pipe(counted);
      await open.store.put(key, body, ctx.signal);
      const code = await exited;
      if (code !== 0) {
        await open.store.remove(key).catch(() => undefined);
        throw new Error(`packing the image failed: ${stderr.trim().split('\n')[0] || `tar exit ${code}`}`);
      }
      const manifest: PublishedManifest = {
        format: 'hangar-image/1',
        name: img.name,
        version,
        kind: img.kind,
        recipe: img.recipe,
        artifact: { key, sha256: hash.digest('hex'), sizeBytes: size, unpackedBytes: img.sizeBytes },
        createdAt: this.now(),
        publisher: this.signer.publicKey(),
      };
      const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
      await open.store.put(`${base}/manifest.sig`, Readable.from([Buffer.from(this.signer.sign(bytes) + '\n')]));
      // The manifest last but one, `latest` last: a reader never finds a manifest whose artifact or signature is missing.
      await open.store.put(`${base}/manifest.json`, Readable.from([bytes]));
      await open.store.put(`images/${img.name}/latest`, Readable.from([Buffer.from(version + '\n')]));
      ctx.progress(100, `Published ${img.name} ${version}: ${formatBytes(size)}, sha256 ${manifest.artifact.sha256}`);
      return { image: img.name, version, target: target.name, sha256: manifest.artifact.sha256, sizeBytes: size, manifestKey: `${base}/manifest.json` };
    } catch (err) {
      throw new Error(open.explain(err), { cause: err });
    } finally {
      open.close();
    }
  }

  private async source(ref: string): Promise<Source> {
    if (/^https?:\/\//i.test(ref)) {
      const base = ref.replace(/\/+$/, '');
      const allowPrivate = this.settings.get().downloadAllowPrivate;
      // Checked now for a clear 400; every request checks its address again.
      await resolveTarget(base, allowPrivate);
      return {
        label: base,
        get: async (key, maxBytes, signal) => {
          const res = await guardedGet(`${base}/${key}`, { allowPrivate, signal });
          if (res.length > maxBytes) {
            res.body.destroy();
            throw new Error(`${key} is ${formatBytes(res.length)}, over the ${formatBytes(maxBytes)} expected`);
          }
          return res.body;
        },
        close: () => undefined,
      };
    }
    const open = this.targets.open(await this.targets.row(ref));
    return { label: `target ${open.row.name}`, get: (key) => open.store.get(key), close: () => open.close() };
  }

  async pull(p: Principal, body: PullPublishedBody): Promise<Job> {
    const name = body.as ?? body.image;
    if (await getImageRow(this.store, { name }))
      throw new ConflictError(`An image named ${name} exists already; delete it first or pull it --as another name.`);
    const src = await this.source(body.source).catch((err: Error) => {
      throw err instanceof NotFoundError ? err : new BadRequestError(`Source refused: ${err.message}`);
    });
    const { job } = await this.jobs.start({ kind: 'image.pull', title: `Pull ${body.image} from ${src.label} as ${name}`, ownerId: p.user.id }, async (ctx) => {
      try {
        return await this.fetch(ctx, src, body, name);
      } finally {
        src.close();
      }
    });
    return job;
  }

  /** The signed manifest, checked: a trusted publisher, a valid signature, the image and version asked for. */
  private async manifest(ctx: JobContext, src: Source, image: string, asked?: string): Promise<PublishedManifest> {
    const version = asked ?? (await readSmall(src, `images/${image}/latest`, 100)).toString('utf8').trim();
    if (!/^[a-z0-9][a-z0-9._-]{0,39}$/.test(version)) throw new Error(`images/${image}/latest on ${src.label} does not name a version`);
    const base = `images/${image}/${version}`;
    const bytes = await readSmall(src, `${base}/manifest.json`, MAX_MANIFEST);
    const sig = (await readSmall(src, `${base}/manifest.sig`, 200)).toString('utf8');
    let m: PublishedManifest;
    try {
      m = publishedManifestSchema.parse(JSON.parse(bytes.toString('utf8')));
    } catch {
      throw new Error(`${base}/manifest.json on ${src.label} is not a Hangar image manifest`);
    }
    const trusted = [this.signer.publicKey(), ...this.settings.get().imageTrustedKeys];
    if (!trusted.includes(m.publisher))
      throw new Error(
        `${image} ${version} is signed by ${fingerprintOf(m.publisher)}, which this Hangar does not trust (Settings → Images: trusted publishers)`,
      );
    if (!verifySignature(m.publisher, bytes, sig)) throw new Error(`${base}/manifest.json on ${src.label}: the signature does not match: nothing was pulled`);
    if (m.name !== image || m.version !== version || m.artifact.key !== `${base}/image.tar.gz`)
      throw new Error(`${base}/manifest.json on ${src.label} describes ${m.name} ${m.version}, not what its place says`);
    if (!PUBLISHABLE.has(m.kind)) throw new Error(`${m.kind} images are not pulled from image servers here`);
    ctx.log(
      `${image} ${version}: ${m.kind}, ${formatBytes(m.artifact.sizeBytes)}, sha256 ${m.artifact.sha256}, signed by ${fingerprintOf(m.publisher)} (valid)`,
    );
    return m;
  }

  private async fetch(ctx: JobContext, src: Source, body: PullPublishedBody, name: string): Promise<PullPublishedResult> {
    const m = await this.manifest(ctx, src, body.image, body.version);
    // A fresh data dir has no images yet.
    fs.mkdirSync(this.dirs.images, { recursive: true, mode: 0o755 });
    const free = fs.statfsSync(this.dirs.images);
    if (m.artifact.sizeBytes + m.artifact.unpackedBytes + RESERVE > free.bavail * free.bsize)
      throw new Error(
        `${m.name} needs ${formatBytes(m.artifact.sizeBytes + m.artifact.unpackedBytes)}; the data dir has ${formatBytes(free.bavail * free.bsize)} free`,
      );
    const row = await this.claim(name, m);
    const file = resolveInside(this.dirs.images, `.pull-${ctx.jobId}.tar.gz`);
    const scratch = resolveInside(this.dirs.images, `.published-${ctx.jobId}`);
    try {
      await this.download(ctx, src, m, file);
      const scan = await scanTarball(file, { allowSetuid: true }, ctx.signal);
      fs.mkdirSync(scratch, { mode: 0o700 });
      await extractTarball(file, scratch, {
        compression: scan.compression,
        tarBytes: scan.tarBytes,
        allowSetuid: true,
        reserveBytes: RESERVE,
        signal: ctx.signal,
        progress: (f) => ctx.progress(60 + Math.floor(38 * f), `Unpacked ${Math.round(f * 100)}%`),
      });
      const dir = resolveInside(this.dirs.images, name);
      fs.renameSync(scratch, dir);
      const recipe = { ...m.recipe, published: { source: src.label, version: m.version, sha256: m.artifact.sha256, publisher: fingerprintOf(m.publisher) } };
      const done = await updateImage(this.store, row.id, { state: 'ready', sizeBytes: scan.diskBytes, updatedAt: this.now(), path: dir, recipe });
      if (done) this.bus.publish('image:update', done);
      ctx.progress(100, `Image ${name} is ready`);
      return { image: name, version: m.version, sha256: m.artifact.sha256, sizeBytes: scan.diskBytes, publisher: fingerprintOf(m.publisher) };
    } catch (err) {
      await removeTree(scratch);
      await deleteImage(this.store, row.id);
      this.bus.publish('image:removed', { id: row.id });
      throw err;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  private async claim(name: string, m: PublishedManifest): Promise<Image> {
    const now = this.now();
    try {
      const row = await insertImage(this.store, {
        id: newId('img'),
        name,
        kind: m.kind,
        state: 'building',
        sizeBytes: 0,
        recipe: { published: { version: m.version } },
        createdAt: now,
        updatedAt: now,
        path: '',
      });
      this.bus.publish('image:update', row);
      return row;
    } catch {
      throw new Error(`An image named ${name} exists already`);
    }
  }

  /** The artifact to `file`: never more than the manifest's size, then its SHA-256 checked. */
  private async download(ctx: JobContext, src: Source, m: PublishedManifest, file: string): Promise<void> {
    const hash = createHash('sha256');
    let got = 0;
    let last = 0;
    const max = m.artifact.sizeBytes;
    const count = new Transform({
      transform(chunk: Buffer, _e, done) {
        got += chunk.length;
        if (got > max) return done(new Error(`${m.artifact.key} is longer than its manifest says (${formatBytes(max)}): nothing was pulled`));
        hash.update(chunk);
        if (Date.now() - last > 300) {
          last = Date.now();
          ctx.progress(Math.floor((55 * got) / max), `Downloaded ${formatBytes(got)} of ${formatBytes(max)}`);
        }
        done(null, chunk);
      },
    });
    await pipeline(await src.get(m.artifact.key, max, ctx.signal), count, fs.createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
    const sha = hash.digest('hex');
    if (got !== max || sha !== m.artifact.sha256)
      throw new Error(
        `${m.artifact.key}: ${formatBytes(got)} with sha256 ${sha}, the manifest says ${formatBytes(max)} with ${m.artifact.sha256}: nothing was pulled`,
      );
    ctx.log(`downloaded ${formatBytes(got)}, sha256 checked`);
  }

  /** The published images a target holds (each version's manifest; unsigned or unreadable ones left out). */
  async list(targetRef: string) {
    const open = this.targets.open(await this.targets.row(targetRef));
    try {
      const keys = (await open.store.list('images/')).filter((o) => o.key.endsWith('/manifest.json'));
      const src: Source = { label: open.row.name, get: (k) => open.store.get(k), close: () => undefined };
      const items = [];
      for (const k of keys) {
        const m = publishedManifestSchema.safeParse(JSON.parse((await readSmall(src, k.key, MAX_MANIFEST).catch(() => Buffer.from('null'))).toString('utf8')));
        if (m.success)
          items.push({
            name: m.data.name,
            version: m.data.version,
            kind: m.data.kind,
            sizeBytes: m.data.artifact.sizeBytes,
            createdAt: m.data.createdAt,
            publisher: fingerprintOf(m.data.publisher),
          });
      }
      return { items: items.sort((a, b) => b.createdAt - a.createdAt) };
    } finally {
      open.close();
    }
  }
}

export const keysDir = (root: string) => path.join(root, 'keys');
