import http from 'node:http';
import { Readable } from 'node:stream';

/** What the API client reads of an answer (lib/client/transport.ts and its areas). */
interface LightResponse {
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

function answer(msg: http.IncomingMessage): LightResponse {
  let used = false;
  const take = () => {
    if (used) throw new TypeError('Body is unusable: the body has already been read');
    used = true;
    return msg;
  };
  const bytes = async () => {
    const chunks: Buffer[] = [];
    for await (const c of take()) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const status = msg.statusCode ?? 0;
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: msg.statusMessage ?? '',
    headers: {
      get: (name) => {
        const v = msg.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    get body() {
      return Readable.toWeb(take()) as ReadableStream<Uint8Array>;
    },
    text: async () => (await bytes()).toString('utf8'),
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const b = await bytes();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * The CLI's requests to an http:// server on node:http. Node's fetch (undici) costs a CLI start
 * about 50 ms of CPU to load and warm up for its first requests, a good part of `hangar run`'s
 * budget; node:http is already in the process. It does what the API client asks of fetch: a
 * string or byte body, or a ReadableStream streamed; the answer's status, headers, text, JSON
 * or body. Anything else, and https:// (whose certificate checks hook into undici, see
 * tls-trust.ts), goes to fetch as before. Answers are not compressed (no Accept-Encoding).
 */
export function lightFetch(): typeof fetch {
  const agent = new http.Agent({ keepAlive: true });
  const light = (input: string | URL | Request, init: RequestInit = {}): Promise<LightResponse> | Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const { body, headers } = init;
    const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ReadableStream;
    const plainHeaders =
      headers === undefined || (typeof headers === 'object' && !Array.isArray(headers) && Object.getPrototypeOf(headers) === Object.prototype);
    const request = typeof input === 'object' && !(input instanceof URL);
    if (url.protocol !== 'http:' || request || !simpleBody || !plainHeaders || init.redirect === 'manual') return fetch(input, init);
    return new Promise<LightResponse>((resolve, reject) => {
      const sized = typeof body === 'string' || body instanceof Uint8Array ? { 'content-length': String(Buffer.byteLength(body)) } : {};
      const req = http.request(url, { method: init.method ?? 'GET', headers: { ...(headers as Record<string, string> | undefined), ...sized }, agent });
      const fail = (err: Error) => reject(new TypeError('fetch failed', { cause: err }));
      req.once('error', fail);
      req.once('response', (msg) => resolve(answer(msg)));
      const signal = init.signal;
      if (signal) {
        if (signal.aborted) req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal.addEventListener('abort', () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
      }
      if (body instanceof ReadableStream) {
        const from = Readable.fromWeb(body as never);
        from.once('error', (err) => req.destroy(err));
        from.pipe(req);
      } else req.end(body ?? undefined);
    });
  };
  return light as unknown as typeof fetch;
}
