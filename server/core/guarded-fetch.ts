import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveTarget, TargetRefused } from './webhooks/ssrf';

export { resolveTarget, TargetRefused };

/** Redirects followed at most; each hop is resolved and checked again. */
export const MAX_REDIRECTS = 5;

export interface GuardedResponse {
  /** The URL that answered (after redirects). */
  url: string;
  status: number;
  /** Content-Length, or 0 when the server did not say. */
  length: number;
  body: http.IncomingMessage;
}

/**
 * GET a URL from outside for a download (an image tarball, an ISO) without letting it reach
 * this host, loopback, link-local (cloud metadata) or multicast addresses unless `allowPrivate`.
 * The host is resolved once per hop and the socket connects to exactly the address that was
 * checked (the lookup is pinned), so DNS rebinding between check and connect is caught; a
 * redirect is followed by hand and its target checked like the first URL. The caller reads
 * (and size-limits) the body; a non-2xx answer is an error naming the status.
 */
export async function guardedGet(rawUrl: string, o: { allowPrivate: boolean; signal?: AbortSignal }): Promise<GuardedResponse> {
  let url = rawUrl;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await getOnce(url, o);
    const code = res.statusCode ?? 0;
    if (code >= 300 && code < 400 && res.headers.location) {
      res.resume();
      url = new URL(res.headers.location, url).toString();
      continue;
    }
    if (code < 200 || code >= 300) {
      res.resume();
      throw new Error(`${url}: the server answered ${code} ${res.statusMessage ?? ''}`.trim());
    }
    return { url, status: code, length: Number(res.headers['content-length']) || 0, body: res };
  }
  throw new Error(`${rawUrl}: more than ${MAX_REDIRECTS} redirects`);
}

async function getOnce(url: string, o: { allowPrivate: boolean; signal?: AbortSignal }): Promise<http.IncomingMessage> {
  const target = await resolveTarget(url, o.allowPrivate);
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts && (opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(target.url, { method: 'GET', lookup: pinned, agent: false, signal: o.signal, headers: { 'user-agent': 'Hangar/1' } }, resolve);
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no answer within 30 s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`${url}: ${e.code ?? e.message}`)));
    req.end();
  });
}
