import type { ForwardedPrincipal, Principal } from '../auth';
import { UnavailableError } from '../errors';
import type { Cluster } from './cluster';

export const encodeForwarded = (p: Principal, ip: string | null): string => {
  const f: ForwardedPrincipal = {
    userId: p.user.id,
    role: p.role,
    via: p.via,
    ...(p.sessionId ? { sessionId: p.sessionId } : {}),
    ...(p.tokenId ? { tokenId: p.tokenId } : {}),
    ...(p.share ? { share: p.share, shareUser: p.user } : {}),
    ip: p.forwarded?.ip ?? ip,
  };
  return Buffer.from(JSON.stringify(f)).toString('base64url');
};

/** Hop-by-hop headers (RFC 9110 7.6.1), and the caller's own credentials: the owner trusts the signature only. */
const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'cookie',
  'authorization',
  'x-hangar-share',
  'x-hangar-node',
  'x-hangar-ts',
  'x-hangar-nonce',
  'x-hangar-signature',
  'x-hangar-forwarded',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-authenticate']);

/**
 * Send the request as it came (method, path, query, headers but hop-by-hop and credentials,
 * the body streamed) to the node that owns what it names, signed by this node for `principal`,
 * and hand back that node's answer as is (a streamed log, a download, an error envelope).
 */
export async function forward(cluster: Cluster, req: Request, nodeId: string, principal: Principal, ip: string | null): Promise<Response> {
  const node = cluster.requireOnline(nodeId);
  const url = new URL(req.url);
  const pathAndQuery = url.pathname + url.search;
  const headers = new Headers();
  req.headers.forEach((v, k) => {
    if (!DROP_REQUEST.has(k.toLowerCase())) headers.set(k, v);
  });
  for (const [k, v] of Object.entries(cluster.sign(req.method, pathAndQuery, encodeForwarded(principal, ip)))) headers.set(k, v);
  const hasBody = req.body !== null && req.method !== 'GET' && req.method !== 'HEAD';
  let res: Response;
  try {
    res = await fetch(node.url.replace(/\/+$/, '') + pathAndQuery, {
      method: req.method,
      headers,
      body: hasBody ? req.body : undefined,
      redirect: 'manual',
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (err) {
    const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new UnavailableError(`node ${node.name} went away during the request (${why}): the operation may have started; see its job`);
  }
  const out = new Headers();
  res.headers.forEach((v, k) => {
    if (!DROP_RESPONSE.has(k)) out.set(k, v);
  });
  // fetch has already undone a compression: the length and encoding no longer describe the body.
  if (out.has('content-encoding')) {
    out.delete('content-encoding');
    out.delete('content-length');
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}
