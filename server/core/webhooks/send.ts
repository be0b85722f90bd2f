import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveTarget, TargetRefused } from './ssrf';
import { SIGNATURE_HEADER, signatureHeader } from './sign';

export interface AttemptResult {
  ok: boolean;
  responseCode: number | null;
  durationMs: number;
  error: string | null;
}

/** One attempt may take this long in all (connect, send, the answer's head and up to 64 KiB of body). */
export const ATTEMPT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POST the signed body once. The host is resolved and checked here, at send time, and the
 * socket connects to that checked address (the lookup is pinned), so a name that resolved to
 * a public address when saved and to 127.0.0.1 now is refused. Redirects are not followed.
 */
export async function attemptDelivery(
  o: { url: string; secret: string; body: string; event: string; deliveryId: string; allowPrivate: boolean },
  timeoutMs = ATTEMPT_TIMEOUT_MS,
): Promise<AttemptResult> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  let target;
  try {
    target = await resolveTarget(o.url, o.allowPrivate);
  } catch (e) {
    return { ok: false, responseCode: null, durationMs: ms(), error: e instanceof TargetRefused ? `refused: ${e.message}` : String(e) };
  }
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts && (opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = target.url.protocol === 'https:' ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    let done = false;
    const finish = (r: Omit<AttemptResult, 'durationMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...r, durationMs: ms() });
    };
    const req = mod.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(o.body),
          'user-agent': 'Hangar-Webhooks/1',
          [SIGNATURE_HEADER]: signatureHeader(o.secret, o.body),
          'Hangar-Event': o.event,
          'Hangar-Delivery': o.deliveryId,
        },
      },
      (res) => {
        let seen = 0;
        const code = res.statusCode ?? 0;
        const end = () => finish({ ok: code >= 200 && code < 300, responseCode: code, error: code >= 200 && code < 300 ? null : `HTTP ${code}` });
        res.on('data', (b: Buffer) => {
          seen += b.length;
          // The answer's body is not kept: reading past this only keeps a slow receiver's socket busy.
          if (seen > MAX_RESPONSE_BYTES) end();
        });
        res.on('end', end);
        res.on('error', end);
      },
    );
    const timer = setTimeout(() => finish({ ok: false, responseCode: null, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, responseCode: null, error: e.code ?? e.message }));
    req.end(o.body);
  });
}
