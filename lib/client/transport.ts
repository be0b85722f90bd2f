import { z } from 'zod';
import { ApiError, apiErrorOf } from './api-error';

export { ApiError };

export interface ClientOptions {
  /** '' in the browser (same origin, cookie auth); the server URL in the CLI. */
  baseUrl: string;
  /** API token (CLI). Browsers use the httpOnly session cookie instead. */
  token?: string;
  /** A share link's token (the share page): sent as X-Hangar-Share. */
  share?: string;
  fetch?: typeof fetch;
}

/** What each area of the client is built on: one request, one parsed call, a query string, the server's URL. */
export type Transport = ReturnType<typeof transport>;

export function transport(opts: ClientOptions) {
  const doFetch = opts.fetch ?? fetch;

  /** One request; a non-2xx answer throws its error envelope as an ApiError. */
  async function send(method: string, path: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.contentType) headers['content-type'] = init.contentType;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.share) headers['x-hangar-share'] = opts.share;
    let res: Response;
    try {
      // duplex: a streamed upload (a snapshot archive) needs it in Node's fetch.
      res = await doFetch(`${opts.baseUrl}/api${path}`, {
        method,
        headers,
        body: init.body,
        credentials: 'same-origin',
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      // fetch's own message is just "fetch failed": the reason (ECONNREFUSED, a reset) is in its cause.
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
      throw new ApiError(0, 'network', `Cannot reach Hangar at ${opts.baseUrl || 'this origin'}: ${err instanceof Error ? err.message : String(err)}${cause}`);
    }
    if (!res.ok) throw apiErrorOf(res.status, await res.text(), path);
    return res;
  }

  async function call<T extends z.ZodType>(method: string, path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    const res = await send(method, path, body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' });
    const text = await res.text();
    return schema.parse(text ? JSON.parse(text) : undefined);
  }

  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v));
    const str = s.toString();
    return str ? `?${str}` : '';
  };

  return { send, call, q, baseUrl: opts.baseUrl };
}
