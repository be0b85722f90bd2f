import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Principal } from '@/server/core/auth';
import { BadRequestError, PayloadTooLargeError } from '@/server/core/errors';
import type { Core } from '@/server/core/hangar';

/** Save a request body to `file`, refusing past `max` bytes (what: the thing uploaded, for the errors). */
export async function saveBody(body: ReadableStream<Uint8Array> | null, file: string, max: number, what: string): Promise<void> {
  if (!body) throw new BadRequestError(`Send the ${what} as the request body.`);
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > max ? new PayloadTooLargeError(`The ${what} is over ${max >= 2 ** 30 ? `${max / 2 ** 30} GiB` : `${max / 2 ** 20} MiB`}.`) : null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as never), cap, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
}

/** The audit line of an image import (an upload, a URL or a server path): its name where it has one, its job, where it came from. */
export function auditImageImport(
  core: Pick<Core, 'audit'>,
  who: Principal,
  ip: string | null,
  name: string | null,
  job: { id: string },
  detail: Record<string, unknown>,
): Promise<void> {
  return core.audit.record(who, { action: 'image.import', target: { kind: 'image', id: name }, ip, detail: { job: job.id, ...detail } });
}
