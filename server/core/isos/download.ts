import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '@/lib/format';
import { guardedGet } from '../guarded-fetch';
import type { JobContext } from '../jobs';

/** A download refused for its size (the job says so; a request that knows the size up front gets a 413). */
export class TooLargeError extends Error {}

/**
 * Download `url` into `file` (a dot-file the caller removes on failure), at most `max` bytes,
 * with progress from 0 to `upTo`. Every hop of a redirect is resolved and checked again by the
 * SSRF guard (private addresses refused unless `allowPrivate`).
 */
export async function downloadIso(ctx: JobContext, url: string, file: string, o: { max: number; allowPrivate: boolean; upTo: number }): Promise<number> {
  const got0 = await guardedGet(url, { allowPrivate: o.allowPrivate, signal: ctx.signal });
  if (got0.url !== url) ctx.log(`redirected to ${got0.url}`);
  const res = got0.body;
  const length = got0.length;
  if (length > o.max) {
    res.destroy();
    throw new TooLargeError(`${url} is ${formatBytes(length)}: more than the ${formatBytes(o.max)} an ISO may be here`);
  }
  let got = 0;
  let last = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      got += chunk.length;
      if (got > o.max) return done(new TooLargeError(`${url} is over ${formatBytes(o.max)}, the most an ISO may be here: the download stopped`));
      const t = Date.now();
      if (t - last > 200) {
        last = t;
        ctx.progress(length ? Math.floor((o.upTo * got) / length) : 5, `Downloaded ${formatBytes(got)}${length ? ` of ${formatBytes(length)}` : ''}`);
      }
      done(null, chunk);
    },
  });
  await pipeline(res, count, fs.createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
  ctx.log(`downloaded ${formatBytes(got)}`);
  return got;
}
