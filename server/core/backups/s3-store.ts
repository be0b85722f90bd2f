import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkKey, ObjectMissingError, type ObjectStore } from './object-store';

export interface S3Config {
  endpoint: string | null;
  bucket: string;
  prefix: string;
  region: string;
  accessKeyId: string;
}

/** Parts of 8 MiB, two in flight: memory stays near 16 MiB however large the object. */
export const PART_BYTES = 8 * 2 ** 20;

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** An S3 error as a sentence naming the target: wrong keys (401/403), no such bucket, or the service's own words. */
export function describeS3Error(target: string, err: unknown): string {
  const status = statusOf(err);
  const code = err instanceof S3ServiceException ? err.name : (err as Error)?.name;
  if (status === 401 || status === 403 || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch')
    return `Target "${target}": access denied (${status ?? code}: ${code}); check the access key and secret.`;
  if (code === 'NoSuchBucket') return `Target "${target}": the bucket does not exist.`;
  const msg = (err as Error)?.message ?? String(err);
  return `Target "${target}": ${status ? `HTTP ${status} ` : ''}${code && !msg.startsWith(code) ? `${code}: ` : ''}${msg}`.slice(0, 400);
}

/** A bucket of an S3-compatible service, through the AWS SDK; large objects go up in parts (lib-storage). */
export class S3Store implements ObjectStore {
  private readonly client: S3Client;
  private readonly base: string;

  constructor(
    private readonly cfg: S3Config,
    secretAccessKey: string,
  ) {
    this.client = new S3Client({
      region: cfg.region,
      ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}),
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey },
      maxAttempts: 2,
      // An endpoint that does not answer fails the job (or the save) instead of holding it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    });
    this.base = cfg.prefix ? `${cfg.prefix.replace(/\/+$/, '')}/` : '';
  }

  private key(k: string): string {
    return this.base + checkKey(k);
  }

  async head(key: string): Promise<number | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: this.key(key) }));
      return r.ContentLength ?? 0;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async put(key: string, body: Readable, signal?: AbortSignal): Promise<void> {
    // leavePartsOnError false: a failed upload is aborted, so no half object is ever listed.
    const up = new Upload({
      client: this.client,
      params: { Bucket: this.cfg.bucket, Key: this.key(key), Body: body },
      partSize: PART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const abort = () => void up.abort().catch(() => undefined);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await up.done();
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: this.key(key) }));
      return r.Body as Readable;
    } catch (err) {
      if (statusOf(err) === 404) throw new ObjectMissingError(key);
      throw err;
    }
  }

  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const r: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: this.base + prefix, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.base.length), size: o.Size ?? 0 });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.cfg.bucket, Key: this.key(key) }));
  }

  close(): void {
    this.client.destroy();
  }
}
