import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError } from '@/server/core/errors';

/** Routes whose body is a file streamed to disk with a cap of its own, exempt from the API's 1 MiB body limit (app.ts). */
export const UPLOAD_PATHS = new Set(['/api/snapshots/import', '/api/probes/packages']);

/** Save a request body to `file`, refusing past `max` bytes (what: the thing uploaded, for the errors). */
export async function saveBody(body: ReadableStream<Uint8Array> | null, file: string, max: number, what: string): Promise<void> {
  if (!body) throw new BadRequestError(`Send the ${what} as the request body.`);
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > max ? new BadRequestError(`The ${what} is over ${max >= 2 ** 30 ? `${max / 2 ** 30} GiB` : `${max / 2 ** 20} MiB`}.`) : null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as never), cap, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
}
