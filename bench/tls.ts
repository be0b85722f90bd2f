import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { startServer, type RunningServer } from '@/server/integration/harness';
import { echoProbe } from './echo-probe-client';
import { sequentialGets } from './sequential';
import { percentile, round } from './stats';

const REQUESTS = 2000;
const WARMUP = 200;

/** The page of machines, one request after another: latencies in ms after a warm-up. */
async function sequential(url: string, token: string, agent: http.Agent): Promise<number[]> {
  await sequentialGets(`${url}/api/machines?limit=10`, token, agent, WARMUP);
  return sequentialGets(`${url}/api/machines?limit=10`, token, agent, REQUESTS);
}

/** An admin token, asked of a server with a cookie login (any scheme, the CA trusted). */
async function token(url: string, agent: http.Agent): Promise<string> {
  const call = (p: string, body: object, cookie?: string) =>
    new Promise<{ status: number; body: string; cookie?: string }>((resolve, reject) => {
      const mod = url.startsWith('https:') ? https : http;
      const req = mod.request(
        `${url}${p}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', origin: url, ...(cookie ? { cookie } : {}) } },
        (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: b, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const login = await call('/api/auth/login', { username: 'admin', password: 'integration-admin-pw' });
  const made = await call('/api/tokens', { name: 'bench-tls' }, login.cookie);
  if (made.status !== 201) throw new Error(`token: ${made.status} ${made.body}`);
  const secret: string = JSON.parse(made.body).secret;
  // The console echo needs the host shell.
  await new Promise<void>((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(
      `${url}/api/settings`,
      { method: 'PATCH', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`settings: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ consoleHostShell: true }));
  });
  return secret;
}

/**
 * What TLS costs: the same built server twice on loopback, one plain HTTP and one HTTPS (its
 * self-signed certificate, --tls), the same API request (a page of machines) 2,000 times one
 * after another over a keep-alive connection from this process, and a console's echo over wss
 * (the echo probe in a process of its own, trusting the server's certificate).
 */
export async function run() {
  let plain: RunningServer | undefined;
  let secure: RunningServer | undefined;
  try {
    plain = await startServer();
    secure = await startServer({ args: ['--tls'] });
    const caFile = path.join(secure.dataDir, 'tls', 'self-signed.crt');
    const ca = fs.readFileSync(caFile);
    const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const [plainToken, secureToken] = [await token(plain.url, httpAgent), await token(secure.url, httpsAgent)];
    // Interleaved halves, so drift on a shared host falls on both alike.
    const h1 = await sequential(plain.url, plainToken, httpAgent);
    const s1 = await sequential(secure.url, secureToken, httpsAgent);
    const h2 = await sequential(plain.url, plainToken, httpAgent);
    const s2 = await sequential(secure.url, secureToken, httpsAgent);
    const httpP50 = percentile([...h1, ...h2], 50);
    const httpsP50 = percentile([...s1, ...s2], 50);
    const wss = await (await echoProbe(secure.url, secureToken, { HANGAR_BENCH_CA: caFile })).go();
    const ws = await (await echoProbe(plain.url, plainToken)).go();
    return {
      http_api_p50_ms: round(httpP50, 3),
      https_api_p50_ms: round(httpsP50, 3),
      tls_api_ratio: round(httpsP50 / httpP50, 3),
      https_api_p99_ms: round(percentile([...s1, ...s2], 99), 2),
      http_api_p99_ms: round(percentile([...h1, ...h2], 99), 2),
      wss_echo_p50_ms: wss.p50_ms,
      wss_echo_p99_ms: wss.p99_ms,
      ws_echo_p99_ms: ws.p99_ms,
    };
  } finally {
    await secure?.stop();
    await plain?.stop();
    for (const s of [plain, secure]) if (s) fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
}
