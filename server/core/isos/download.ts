import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '@/lib/format';
import { resolveTarget, type ResolvedTarget } from '../webhooks/ssrf';
import type { JobContext } from '../jobs';

const MAX_REDIRECTS = 5;

/** A download refused for its size (the job says so; a request that knows the size up front gets a 413). */
export class TooLargeError extends Error {}

/** A GET whose socket connects to the address checked (the lookup is pinned): no second DNS answer can point it elsewhere. */
function get(target: ResolvedTarget, signal: AbortSignal): Promise<http.IncomingMessage> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts && (opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(target.url, { lookup: pinned, agent: false, signal, headers: { 'user-agent': 'Hangar-ISO/1' } }, resolve);
    req.on('error', reject);
  });
}

/**
 * Download `url` into `file` (a dot-file the caller removes on failure), at most `max` bytes,
 * with progress from 0 to `upTo`. Every hop of a redirect is resolved and checked again by the
 * SSRF guard (private addresses refused unless `allowPrivate`).
 */
export async function downloadIso(ctx: JobContext, url: string, file: string, o: { max: number; allowPrivate: boolean; upTo: number }): Promise<number> {
  let where = url;
  let res: http.IncomingMessage;
  for (let hop = 0; ; hop++) {
    const target = await resolveTarget(where, o.allowPrivate);
    res = await get(target, ctx.signal).catch((err: Error) => {
      throw new Error(`${where}: ${err.message}`);
    });
    const code = res.statusCode ?? 0;
    if (code >= 300 && code < 400 && res.headers.location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new Error(`${url}: more than ${MAX_REDIRECTS} redirects`);
      where = new URL(res.headers.location, where).toString();
      ctx.log(`redirected to ${where}`);
      continue;
    }
    if (code !== 200) {
      res.resume();
      throw new Error(`${where}: the server answered ${code} ${res.statusMessage ?? ''}`.trim());
    }
    break;
  }
  const length = Number(res.headers['content-length']) || 0;
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
