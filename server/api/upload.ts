import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, PayloadTooLargeError } from '@/server/core/errors';

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
