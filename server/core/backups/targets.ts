import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { BackupTarget, CreateBackupTargetBody } from '@/lib/contracts/backups';
import { createBackupTargetBodySchema } from '@/lib/contracts/backups';
import type { Store } from '@/db/client';
import { deleteBackupTargetRow, getBackupTargetRow, insertBackupTarget, listBackupTargetRows, type BackupTargetRow } from '@/db/repo/backup-targets';
import { BadRequestError, ConflictError, NotFoundError } from '../errors';
import { newId } from '../ids';
import { DirStore, type ObjectStore } from './object-store';
import { describeS3Error, S3Store, type S3Config } from './s3-store';

interface DirConfig {
  path: string;
}

/** A target's store and the words for its failures. */
export interface OpenTarget {
  row: BackupTargetRow;
  store: ObjectStore;
  /** A failure of the store as a sentence naming the target (S3: 401/403 as access denied). */
  explain(err: unknown): string;
  close(): void;
}

/**
 * Settings -> Backups: where backups go. A directory is an absolute host path (an admin's
 * setting, outside the data dir); S3 keys are kept in the database (the server's) and never
 * returned. Each target is checked when saved by writing and deleting a probe object.
 */
export class BackupTargetService {
  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<BackupTarget[]> {
    return (await listBackupTargetRows(this.store)).map(toTarget);
  }

  async row(ref: string): Promise<BackupTargetRow> {
    const row = await getBackupTargetRow(this.store, ref);
    if (!row) throw new NotFoundError(`Backup target "${ref}"`);
    return row;
  }

  async get(ref: string): Promise<BackupTarget> {
    return toTarget(await this.row(ref));
  }

  open(row: BackupTargetRow): OpenTarget {
    if (row.kind === 'dir') {
      const cfg = JSON.parse(row.configJson) as DirConfig;
      return { row, store: new DirStore(cfg.path), explain: (err) => `Target "${row.name}": ${(err as Error)?.message ?? err}`, close: () => undefined };
    }
    const s3 = new S3Store(JSON.parse(row.configJson) as S3Config, row.secret ?? '');
    return { row, store: s3, explain: (err) => describeS3Error(row.name, err), close: () => s3.close() };
  }

  async create(userId: string | null, raw: CreateBackupTargetBody): Promise<BackupTarget> {
    const body = createBackupTargetBodySchema.parse(raw);
    if (await getBackupTargetRow(this.store, body.name)) throw new ConflictError(`A backup target is already named "${body.name}".`);
    const now = this.now();
    const row: BackupTargetRow = {
      id: newId('bkt'),
      name: body.name,
      kind: body.kind,
      configJson: '',
      secret: null,
      createdBy: userId,
      createdAt: now,
      updatedAt: now,
    };
    if (body.kind === 'dir') row.configJson = JSON.stringify({ path: this.checkDir(body.path) } satisfies DirConfig);
    else {
      const cfg: S3Config = {
        endpoint: body.endpoint || null,
        bucket: body.bucket,
        prefix: body.prefix ?? '',
        region: body.region ?? 'us-east-1',
        accessKeyId: body.accessKeyId,
      };
      row.configJson = JSON.stringify(cfg);
      row.secret = body.secretAccessKey;
    }
    await this.probe(row);
    await insertBackupTarget(this.store, row);
    return toTarget(row);
  }

  async remove(ref: string): Promise<BackupTarget> {
    const row = await this.row(ref);
    await deleteBackupTargetRow(this.store, row.id);
    return toTarget(row);
  }

  /** An existing directory, by its real path, that is not inside the data dir (whose collection may remove what it does not know). */
  private checkDir(raw: string): string {
    const issue = (message: string) => new BadRequestError(`Directory ${raw}: ${message}.`, [{ path: 'path', message }]);
    let real: string;
    try {
      real = fs.realpathSync(path.resolve(raw));
    } catch {
      throw issue('it does not exist');
    }
    if (!fs.statSync(real).isDirectory()) throw issue('not a directory');
    if (real === '/') throw issue('the root directory cannot be a target');
    const data = fs.realpathSync(this.dataDir);
    if (real === data || real.startsWith(data + path.sep) || data.startsWith(real + path.sep)) throw issue("it overlaps Hangar's data dir");
    return real;
  }

  /** Write, read back and delete a small object: wrong keys, a missing bucket or a read-only directory show now, not at the first backup. */
  private async probe(row: BackupTargetRow): Promise<void> {
    const t = this.open(row);
    // At the top: a directory target keeps no empty folder of it.
    const key = `probe-${randomBytes(8).toString('hex')}`;
    try {
      await t.store.put(key, Readable.from([Buffer.from('hangar probe\n')]));
      if ((await t.store.head(key)) === null) throw new Error('an object written could not be found again');
      await t.store.remove(key);
    } catch (err) {
      await t.store.remove(key).catch(() => undefined);
      throw new BadRequestError(`${t.explain(err)} (the write test failed; nothing was saved)`);
    } finally {
      t.close();
    }
  }
}

function toTarget(r: BackupTargetRow): BackupTarget {
  const cfg = JSON.parse(r.configJson) as Partial<S3Config & DirConfig>;
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    s3:
      r.kind === 's3'
        ? {
            endpoint: cfg.endpoint ?? null,
            bucket: cfg.bucket ?? '',
            prefix: cfg.prefix ?? '',
            region: cfg.region ?? '',
            accessKeyId: cfg.accessKeyId ?? '',
            hasSecret: !!r.secret,
          }
        : null,
    dir: r.kind === 'dir' ? { path: cfg.path ?? '' } : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
