import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests: `/ok` answers 200, `/flaky` 500 to the
 * first request of each delivery and 200 after, `/hang` reads the request and never answers.
 */
export async function startReceiver() {
  const got: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const seenDeliveries = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b) => (body += b));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({ path, headers: req.headers, body });
      if (path === '/hang') return void hanging.add(res);
      if (path === '/flaky') {
        const id = String(req.headers['hangar-delivery']);
        if (!seenDeliveries.has(id)) {
          seenDeliveries.add(id);
          return void res.writeHead(500).end('not yet');
        }
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    got,
    at: (path: string) => got.filter((g) => g.path === path),
    /** Requests /hang holds open now. */
    hangingNow: () => [...hanging].filter((r) => !r.writableEnded && !r.socket?.destroyed).length,
    async close() {
      for (const r of hanging) r.socket?.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
