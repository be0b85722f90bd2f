import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '@/lib/api-client';
import type { ConsoleOutput } from '@/lib/contracts/console';
import { run } from '@/server/drivers/exec';
import { ADMIN_PASSWORD, type RunningServer, startServer, tearDown, until } from './harness';
import { makeTestPki, type TestPki } from './tls-certs';

/**
 * HTTPS on the real built server: the operator's certificate (made here by openssl, signed by a
 * test CA), the self-signed default beyond loopback, plain HTTP refused there, the CLI pinning a
 * fingerprint and refusing a changed one, a console over wss that outlives a SIGHUP reload.
 */
let pki: TestPki;
let home: string;
const servers: RunningServer[] = [];
const sockets: Socket[] = [];

beforeAll(() => {
  pki = makeTestPki(fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-pki-')));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-tls-'));
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const s of servers) await tearDown(s, undefined);
  fs.rmSync(pki.dir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
}, 60_000);

async function start(args: string[]): Promise<RunningServer> {
  const s = await startServer({ args });
  servers.push(s);
  return s;
}

/** A server that must refuse to start: its exit code and what it said. */
async function refusedStart(args: string[]): Promise<{ code: number; out: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-it-'));
  try {
    const r = await run([process.execPath, 'dist/server.js', '--port', '0', '--data', dataDir, '--no-ui', ...args], {
      timeoutMs: 30_000,
      env: { HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD, DATABASE_URL: '' },
    });
    return { code: r.code ?? -1, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** fetch trusting only `ca` (the test CA, or a server's self-signed certificate). */
const fetchWithCa = (ca: string | Buffer) => {
  const dispatcher = new Agent({ connect: { ca } });
  return ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
};

/** The certificate a TLS server presents, unverified. */
const presented = (url: string) =>
  new Promise<string>((resolve, reject) => {
    const u = new URL(url);
    const s = https.request({ host: u.hostname, port: u.port, method: 'HEAD', path: '/api/health', rejectUnauthorized: false, agent: false }, (res) => {
      resolve((res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256);
      res.resume();
    });
    s.on('error', reject);
    s.end();
  });

/** Plain HTTP/1.1 to a port, the raw answer. */
const plainHttp = (host: string, port: number, target: string) =>
  new Promise<string>((resolve, reject) => {
    const s = net.connect({ host, port }, () => s.write(`GET ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    let out = '';
    s.on('data', (b) => (out += b));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });

const cli = (args: string[], input?: string) =>
  run([process.execPath, 'dist/cli.js', ...args], { input, timeoutMs: 30_000, env: { XDG_CONFIG_HOME: home, HANGAR_URL: '', HANGAR_TOKEN: '' } });

/** A host address that is not loopback, for a bind "beyond loopback". */
function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  throw new Error('this host has no non-loopback IPv4 address');
}

describe('the operator certificate', () => {
  let srv: RunningServer;
  let token: string;

  it('is refused at start when expired, not matching its key, or unreadable, each by name', async () => {
    const [expired, mismatch, missing, half] = await Promise.all([
      refusedStart(['--tls-cert', pki.expired.cert, '--tls-key', pki.expired.key]),
      refusedStart(['--tls-cert', pki.leaf.cert, '--tls-key', pki.leaf2.key]),
      refusedStart(['--tls-cert', path.join(pki.dir, 'nope.crt'), '--tls-key', pki.leaf.key]),
      refusedStart(['--tls-cert', pki.leaf.cert]),
    ]);
    expect(expired).toMatchObject({ code: 1, out: expect.stringMatching(/TLS certificate .*expired\.crt expired on 2020-01-02/) });
    expect(mismatch).toMatchObject({ code: 1, out: expect.stringMatching(/TLS key .*leaf2\.key does not match the certificate .*leaf\.crt/) });
    expect(missing).toMatchObject({ code: 1, out: expect.stringMatching(/TLS certificate .*nope\.crt cannot be read: ENOENT/) });
    expect(half).toMatchObject({ code: 1, out: expect.stringContaining('--tls-cert and --tls-key') });
  }, 60_000);

  it('serves the API over HTTPS with HSTS and names its fingerprint; plain HTTP on that port is refused', async () => {
    // Copies: SIGHUP below reloads these paths with another certificate.
    const cert = path.join(pki.dir, 'served.crt');
    const key = path.join(pki.dir, 'served.key');
    fs.copyFileSync(pki.leaf.cert, cert);
    fs.copyFileSync(pki.leaf.key, key);
    srv = await start(['--tls-cert', cert, '--tls-key', key]);
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await until(() => srv.output().includes(`SHA-256 fingerprint: ${pki.leaf.fingerprint256}`), 'the fingerprint printed');
    const f = fetchWithCa(fs.readFileSync(pki.caCert));
    const res = await f(`${srv.url}/api/health`);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(await res.json()).toMatchObject({ ok: true, transport: { scheme: 'https', fingerprint256: pki.leaf.fingerprint256 } });
    // Without trusting the CA, nothing is served.
    await expect(fetch(`${srv.url}/api/health`)).rejects.toThrow();
    const port = Number(new URL(srv.url).port);
    const api = await plainHttp('127.0.0.1', port, '/api/health');
    expect(api).toMatch(/^HTTP\/1\.1 400/);
    expect(api).toContain('serves HTTPS only');
    expect(await plainHttp('127.0.0.1', port, '/machines')).toMatch(new RegExp(`^HTTP/1.1 308[^]*Location: https://127.0.0.1:${port}/machines`));
    // A session cookie over HTTPS is Secure.
    const login = await f(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: srv.url },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(login.headers.get('set-cookie')).toMatch(/; Secure/i);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const made = await f(`${srv.url}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: srv.url, cookie },
      body: JSON.stringify({ name: 'it-tls' }),
    });
    token = (await made.json()).secret;
    await createApiClient({ baseUrl: srv.url, token, fetch: f }).settings.update({ consoleHostShell: true });
  }, 60_000);

  it('the CLI pins the fingerprint on login (shown, or given) and trusts a CA file', async () => {
    // No terminal to ask: refused, with the fingerprint to check and how to pass it.
    const asked = await cli(['login', '--url', srv.url, '-u', 'admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toContain(`SHA-256 fingerprint: ${pki.leaf.fingerprint256}`);
    expect(asked.stderr).toContain('--fingerprint');
    const wrong = await cli(['login', '--url', srv.url, '-u', 'admin', '--password-stdin', '--fingerprint', 'AA'.repeat(32)], `${ADMIN_PASSWORD}\n`);
    expect(wrong).toMatchObject({ code: 3, stderr: expect.stringContaining('HAS CHANGED') });
    const fp = pki.leaf.fingerprint256.replace(/:/g, '').toLowerCase();
    const ok = await cli(['login', '--url', srv.url, '-u', 'admin', '--password-stdin', '--fingerprint', fp, '--json'], `${ADMIN_PASSWORD}\n`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ user: 'admin', fingerprint256: pki.leaf.fingerprint256 });
    const saved = JSON.parse(fs.readFileSync(path.join(home, 'hangar', 'config.json'), 'utf8'));
    expect(saved.tls.fingerprint256).toBe(pki.leaf.fingerprint256);
    expect(await cli(['status', '--json'])).toMatchObject({ code: 0 });
    // A script's one-off trust: the fingerprint in the environment, in any form.
    const viaEnv = await run([process.execPath, 'dist/cli.js', 'status'], {
      timeoutMs: 30_000,
      env: { XDG_CONFIG_HOME: path.join(home, 'none'), HANGAR_URL: srv.url, HANGAR_TOKEN: token, HANGAR_TLS_FINGERPRINT: fp },
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    // A CA file: verified the ordinary way, nothing pinned.
    const caHome = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-ca-'));
    try {
      const env = { XDG_CONFIG_HOME: caHome, HANGAR_URL: '', HANGAR_TOKEN: '' };
      const viaCa = await run([process.execPath, 'dist/cli.js', 'login', '--url', srv.url, '-u', 'admin', '--password-stdin', '--ca', pki.caCert], {
        input: `${ADMIN_PASSWORD}\n`,
        timeoutMs: 30_000,
        env,
      });
      expect(viaCa.code, viaCa.stderr).toBe(0);
      expect((await run([process.execPath, 'dist/cli.js', 'status'], { timeoutMs: 30_000, env })).code).toBe(0);
    } finally {
      fs.rmSync(caHome, { recursive: true, force: true });
    }
  }, 90_000);

  it('a console over wss survives SIGHUP; new connections get the new certificate and the CLI refuses it loudly', async () => {
    const ca = fs.readFileSync(pki.caCert, 'utf8');
    const s = io(`${srv.url}/console`, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, ca });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => (s.once('connect', () => resolve()), s.once('connect_error', reject)));
    let out = '';
    s.on('output', (m: ConsoleOutput, ack?: () => void) => {
      ack?.();
      out += m.data;
    });
    const sessionId = 'tls-console-1';
    const reply = await new Promise<{ ok: boolean }>((r) => s.emit('attach', { sessionId, target: { kind: 'host-shell' }, cols: 80, rows: 24 }, r));
    expect(reply.ok).toBe(true);
    s.emit('input', { sessionId, data: 'echo wss-$((6*7))-one\n' });
    await until(() => out.includes('wss-42-one'), 'the console echo over wss');

    fs.copyFileSync(pki.leaf2.cert, path.join(pki.dir, 'served.crt'));
    fs.copyFileSync(pki.leaf2.key, path.join(pki.dir, 'served.key'));
    srv.proc.kill('SIGHUP');
    await until(() => srv.output().includes(`certificate reloaded, SHA-256 fingerprint: ${pki.leaf2.fingerprint256}`), 'the reload');
    expect(await presented(srv.url)).toBe(pki.leaf2.fingerprint256);
    // The open console did not drop.
    expect(s.connected).toBe(true);
    s.emit('input', { sessionId, data: 'echo wss-$((6*7))-two\n' });
    await until(() => out.includes('wss-42-two'), 'the console echo after the reload');

    const changed = await cli(['status']);
    expect(changed.code).toBe(3);
    expect(changed.stderr).toContain('THE SERVER CERTIFICATE HAS CHANGED');
    expect(changed.stderr).toContain(pki.leaf2.fingerprint256);
    // Login does not quietly replace a pin either.
    const relogin = await cli(['login', '--url', srv.url, '-u', 'admin', '--password-stdin', '--accept-new'], `${ADMIN_PASSWORD}\n`);
    expect(relogin).toMatchObject({ code: 3, stderr: expect.stringContaining('HAS CHANGED') });

    // A broken file on SIGHUP: the old certificate stays.
    fs.writeFileSync(path.join(pki.dir, 'served.crt'), 'not a certificate');
    srv.proc.kill('SIGHUP');
    await until(() => srv.output().includes('certificate not reloaded, the old one stays'), 'the refused reload');
    expect(await presented(srv.url)).toBe(pki.leaf2.fingerprint256);
  }, 60_000);
});

describe('beyond loopback', () => {
  const addr = hostAddress();

  it('serves HTTPS with a self-signed certificate made for the host (key 0600), and refuses plain HTTP', async () => {
    const srv = await start(['--host', addr]);
    expect(srv.url).toBe(`https://${addr}:${new URL(srv.url).port}`);
    const certFile = path.join(srv.dataDir, 'tls', 'self-signed.crt');
    expect(fs.statSync(path.join(srv.dataDir, 'tls', 'self-signed.key')).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(fs.readFileSync(certFile));
    expect(x509.checkIP(addr)).toBe(addr);
    expect(x509.checkHost(os.hostname())).toBeTruthy();
    await until(() => srv.output().includes(`SHA-256 fingerprint: ${x509.fingerprint256}`), 'the fingerprint printed');
    expect(srv.output()).toContain(`self-signed certificate (made,`);
    const health = await (await fetchWithCa(fs.readFileSync(certFile))(`${srv.url}/api/health`)).json();
    expect(health.transport).toEqual({ scheme: 'https', fingerprint256: x509.fingerprint256 });
    expect(await plainHttp(addr, Number(new URL(srv.url).port), '/api/health')).toMatch(/^HTTP\/1\.1 400[^]*serves HTTPS only/);
    // The CLI's trust on first use, as a script does it.
    const tofuHome = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-tofu-'));
    try {
      const env = { XDG_CONFIG_HOME: tofuHome, HANGAR_URL: '', HANGAR_TOKEN: '' };
      const r = await run([process.execPath, 'dist/cli.js', 'login', '--url', srv.url, '-u', 'admin', '--password-stdin', '--accept-new'], {
        input: `${ADMIN_PASSWORD}\n`,
        timeoutMs: 30_000,
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(x509.fingerprint256);
    } finally {
      fs.rmSync(tofuHome, { recursive: true, force: true });
    }
  }, 60_000);

  it('plain HTTP only when asked: --insecure-http (the UI warns), or for a trusted TLS proxy only', async () => {
    const insecure = await start(['--host', addr, '--insecure-http']);
    expect(insecure.url).toMatch(/^http:\/\//);
    await until(() => insecure.output().includes('plain HTTP beyond loopback'), 'the warning printed');
    const h = await (await fetch(`${insecure.url}/api/health`)).json();
    expect(h.transport).toEqual({ scheme: 'http', plainReason: 'insecure' });
    expect((await fetch(`${insecure.url}/api/health`)).headers.get('strict-transport-security')).toBeNull();

    const proxied = await start(['--host', addr, '--trusted-proxy', '192.0.2.10']);
    expect(proxied.url).toMatch(/^http:\/\//);
    // This test connects from the host's own address: not the proxy, so refused (before the API's routes: node:http, not fetch).
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) =>
      http
        .get(`${proxied.url}/api/health`, (res) => {
          let body = '';
          res.on('data', (b) => (body += b));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        })
        .on('error', reject),
    );
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.message).toContain('trusted TLS proxy');
  }, 60_000);
});
