import type http from 'node:http';
import { hasRole } from '@/lib/roles';
import type { Core } from '@/server/core/hangar';
import { credentialsFrom } from './credentials';
import { envelope } from './errors';

function answer(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra }).end(JSON.stringify(body));
}

/**
 * GET /metrics for Prometheus: the scrape token (Settings -> Metrics) as a bearer token, or an
 * admin's session or API token. Anything else answers the API's error envelope.
 */
export async function serveMetrics(core: Core, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, envelope('bad_request', 'GET /metrics only.'), { Allow: 'GET, HEAD' });
    const creds = credentialsFrom({ cookie: req.headers.cookie, authorization: req.headers.authorization });
    if (!(creds.bearer && core.metrics.isScrapeToken(creds.bearer))) {
      const principal = await core.auth.authenticate(creds);
      if (!principal) {
        return answer(res, 401, envelope('unauthorized', 'The scrape token (Settings > Metrics) or an admin API token as a bearer token, please.'), {
          'WWW-Authenticate': 'Bearer realm="hangar-metrics"',
        });
      }
      if (principal.via === 'share' || !hasRole(principal.role, 'admin'))
        return answer(res, 403, envelope('forbidden', '/metrics needs the admin role or the scrape token.'));
    }
    const text = await core.metrics.render();
    res.writeHead(200, { 'Content-Type': core.metrics.contentType, 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text);
  } catch (err) {
    console.error('GET /metrics:', err);
    if (!res.headersSent) answer(res, 500, envelope('internal', 'Internal error: see the server log.'));
  }
}
