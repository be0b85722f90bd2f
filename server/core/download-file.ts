import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '@/lib/format';
import { guardedGet, TargetRefused } from './guarded-fetch';
import type { JobContext } from './jobs';

/**
 * A job's download of `url` into `file` (mode 0600): every hop checked against private addresses
 * (unless allowed), refused up front when the server says it is over `max` and cut off as soon as
 * it goes over; progress from `from` to `upTo` percent. The caller removes the file on failure.
 */
export async function downloadFile(
  ctx: JobContext,
  url: string,
  file: string,
  o: { max: number; allowPrivate: boolean; from?: number; upTo: number },
): Promise<number> {
  ctx.log(`downloading ${url} (at most ${formatBytes(o.max)})`);
  const res = await guardedGet(url, { allowPrivate: o.allowPrivate, signal: ctx.signal }).catch((err: Error) => {
    throw new Error(err instanceof TargetRefused ? `${url} refused: ${err.message}` : err.message);
  });
  if (res.length > o.max) {
    res.body.destroy();
    throw new Error(`${url} is ${formatBytes(res.length)}: more than the ${formatBytes(o.max)} a download may take here`);
  }
  const from = o.from ?? 0;
  let got = 0;
  let last = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      got += chunk.length;
      if (got > o.max) return done(new Error(`${url} is over ${formatBytes(o.max)}: the download stopped`));
      const t = Date.now();
      if (t - last > 200) {
        last = t;
        const pct = res.length ? from + Math.floor(((o.upTo - from) * got) / res.length) : from;
        ctx.progress(pct, `Downloaded ${formatBytes(got)}${res.length ? ` of ${formatBytes(res.length)}` : ''}`);
      }
      done(null, chunk);
    },
  });
  await pipeline(res.body, count, fs.createWriteStream(file, { mode: 0o600 }), { signal: ctx.signal });
  ctx.log(`downloaded ${formatBytes(got)}`);
  return got;
}
