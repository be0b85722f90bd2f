import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/**
 * The test tier's S3 server: s3rver (npm, pinned) on 127.0.0.1 with a port the kernel picks, its
 * objects in a temp dir of its own (to corrupt one), one bucket made here. It checks the access
 * key id (a wrong one is a 403) but not SigV4 signatures, so a wrong secret passes: tests use a
 * wrong key id for "bad credentials". `multipartUploads` counts completed multipart uploads.
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the bucket's objects are files (`KEY._S3rver_object`). */
  dir: string;
  multipartUploads(): number;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'hangar-it'): Promise<TestS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  let multipart = 0;
  // s3rver tells a completed multipart upload as an ObjectCreated:Post event.
  server.on('event', (e: { Records?: { eventName?: string }[] }) => {
    if (e.Records?.some((r) => r.eventName === 'ObjectCreated:Post')) multipart++;
  });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    dir: path.join(dir, bucket),
    multipartUploads: () => multipart,
    stop: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
