import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCore } from './core/hangar';
import { defaultDataDir, projectRoot } from './core/paths';
import { createHttpServer, type UiHandler } from './http';
import { chooseTransport, prepareTls, type TlsChoice } from './transport/tls-setup';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  ui: boolean;
  dev: boolean;
  adminPassword?: string;
  /** The operator's certificate and key (PEM files); HTTPS wherever the server binds. */
  tlsCert?: string;
  tlsKey?: string;
  /** HTTPS with the self-signed certificate even on loopback. */
  tls?: boolean;
  /** Plain HTTP beyond loopback (the UI shows a warning). */
  insecureHttp?: boolean;
  /** Peers that terminate TLS in front of Hangar: plain HTTP beyond loopback, served to them only. */
  trustedProxies?: string[];
  /** PostgreSQL: join the cluster at this URL with a join token (`hangar nodes token`). */
  clusterJoin?: string;
  token?: string;
  /** This node's name in its cluster (default: the host name). */
  nodeName?: string;
  /** Where the other nodes reach this one (default: the URL it listens on). */
  internalUrl?: string;
}

export function serveOptionsFromArgs(argv: string[]): ServeOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      'no-ui': { type: 'boolean', default: false },
      dev: { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      tls: { type: 'boolean', default: false },
      'insecure-http': { type: 'boolean', default: false },
      'trusted-proxy': { type: 'string', multiple: true },
      'cluster-join': { type: 'string' },
      token: { type: 'string' },
      'node-name': { type: 'string' },
      'internal-url': { type: 'string' },
    },
    allowPositionals: false,
  });
  const port = Number(values.port ?? process.env.HANGAR_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  const host = values.host ?? process.env.HANGAR_HOST ?? '127.0.0.1';
  if (values['cluster-join'] && !values.token) throw new Error('--cluster-join needs --token T (hangar nodes token, on a node of the cluster)');
  if (values['cluster-join'] && !process.env.DATABASE_URL) throw new Error("--cluster-join needs DATABASE_URL: the cluster's PostgreSQL");
  if (values['cluster-join'] && !values['internal-url'] && (host === '0.0.0.0' || host === '::'))
    throw new Error('--cluster-join with --host 0.0.0.0: give --internal-url, the URL the other nodes reach this one at');
  return {
    host,
    port,
    dataDir: path.resolve(values.data ?? defaultDataDir()),
    databaseUrl: process.env.DATABASE_URL || undefined,
    ui: !values['no-ui'] && process.env.HANGAR_NO_UI !== '1',
    dev: values.dev,
    adminPassword: process.env.HANGAR_ADMIN_PASSWORD || undefined,
    tlsCert: values['tls-cert'] ?? (process.env.HANGAR_TLS_CERT || undefined),
    tlsKey: values['tls-key'] ?? (process.env.HANGAR_TLS_KEY || undefined),
    tls: values.tls || process.env.HANGAR_TLS === '1',
    insecureHttp: values['insecure-http'] || process.env.HANGAR_INSECURE_HTTP === '1',
    trustedProxies: (values['trusted-proxy'] ?? (process.env.HANGAR_TRUSTED_PROXIES ? [process.env.HANGAR_TRUSTED_PROXIES] : []))
      .flatMap((p) => p.split(','))
      .map((p) => p.trim())
      .filter(Boolean),
    clusterJoin: values['cluster-join'],
    token: values.token,
    nodeName: values['node-name'],
    internalUrl: values['internal-url'],
  };
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

async function createUi(dev: boolean, host: string, port: number): Promise<UiHandler> {
  const { default: next } = await import('next');
  const app = next({ dev, dir: projectRoot(), hostname: host, port, quiet: !dev });
  await app.prepare();
  const handle = app.getRequestHandler();
  return { request: (req, res) => handle(req, res), upgrade: dev ? app.getUpgradeHandler() : undefined };
}

/** Start Hangar; resolves once it listens. */
export async function serve(opts: ServeOptions) {
  const t0 = performance.now();
  const choice: TlsChoice = chooseTransport(opts);
  // A certificate that cannot serve is refused before anything else starts.
  const tls = choice.scheme === 'https' ? await prepareTls(choice, opts) : null;
  const transport = tls
    ? { scheme: 'https' as const, fingerprint256: tls.material.fingerprint256 }
    : { scheme: 'http' as const, plainReason: choice.scheme === 'http' ? choice.reason : undefined };
  const core = await createCore({
    dataDir: opts.dataDir,
    databaseUrl: opts.databaseUrl,
    version: version(),
    transport,
    cluster: {
      join: opts.clusterJoin && opts.token ? { url: opts.clusterJoin, token: opts.token } : undefined,
      nodeName: opts.nodeName,
      internalUrl: opts.internalUrl,
    },
  });
  const admin = await core.auth.ensureAdmin(opts.adminPassword);
  const ui = opts.ui ? await createUi(opts.dev, opts.host, opts.port) : null;
  const http = createHttpServer(core, ui, {
    tls: tls ? { cert: tls.material.cert, key: tls.material.key } : undefined,
    trustedProxies: choice.scheme === 'http' && choice.reason === 'proxy' ? opts.trustedProxies : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    http.listener.once('error', reject);
    http.listener.listen(opts.port, opts.host, () => resolve());
  });
  const addr = http.listener.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `${transport.scheme}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  // A cluster node joins (it must already answer the cluster's call back) and starts its heartbeat.
  try {
    await core.cluster.online(url);
  } catch (e) {
    await http.close();
    await core.close();
    throw e;
  }
  /** SIGHUP: read the certificate again (the operator's, or renew the self-signed one when due); open connections keep theirs. */
  const reloadTls = async () => {
    if (!tls) return null;
    const next = await tls.reload();
    http.setCertificate(next.cert, next.key);
    core.transport.fingerprint256 = next.fingerprint256;
    return next;
  };
  const renewTimer = tls?.selfSigned ? setInterval(() => void reloadTls().catch((e) => console.error('certificate renewal failed:', e)), 12 * 3600_000) : null;
  renewTimer?.unref();
  // Probe the host in the background, once start-up is over; /api/host waits for it if asked sooner.
  setTimeout(() => void core.host.info().catch((e) => console.error('host probe failed:', e)), 3000).unref();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      if (renewTimer) clearInterval(renewTimer);
      await http.close();
      await core.close();
    })());
  return { url, port, core, http, admin, tls, transport, reloadTls, startupMs: performance.now() - t0, close };
}

export async function main(argv: string[]): Promise<void> {
  const opts = serveOptionsFromArgs(argv);
  const s = await serve(opts);
  console.log(`Hangar ${s.core.version} listening on ${s.url}`);
  if (s.tls) {
    const how = s.tls.selfSigned ? `self-signed certificate (${s.tls.action}, ${s.tls.certFile})` : `certificate ${opts.tlsCert}`;
    console.log(`  HTTPS with the ${how}, valid until ${s.tls.material.validTo.toISOString()}`);
    console.log(`  SHA-256 fingerprint: ${s.tls.material.fingerprint256}`);
    if (s.tls.warning) console.log(`  warning: ${s.tls.warning}`);
  } else if (s.transport.plainReason === 'insecure') {
    console.log('  warning: plain HTTP beyond loopback (--insecure-http): passwords, tokens and console keystrokes cross the network in clear.');
  } else if (s.transport.plainReason === 'proxy') {
    console.log(`  plain HTTP for the TLS proxy at ${opts.trustedProxies?.join(', ')} (other peers are refused)`);
  }
  console.log(`  data: ${opts.dataDir}  database: ${s.core.store.dialect} (${s.core.store.location})${opts.ui ? '' : '  web UI: off'}`);
  if (s.admin.created) {
    console.log(
      s.admin.password
        ? `  First run: created user "admin" with one-time password: ${s.admin.password}\n  Log in at ` +
            `${s.url}/login and create an API token for the CLI (hangar login).`
        : '  First run: created user "admin" with the password from HANGAR_ADMIN_PASSWORD.',
    );
  }
  let signals = 0;
  const stop = (sig: string) => {
    if (++signals > 1) process.exit(130);
    console.log(`\n${sig}: stopping Hangar…`);
    setTimeout(() => process.exit(1), 5000).unref();
    s.close().then(
      () => process.exit(0),
      (e) => (console.error(e), process.exit(1)),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    s.reloadTls().then(
      (m) => m && console.log(`SIGHUP: certificate reloaded, SHA-256 fingerprint: ${m.fingerprint256}`),
      (e) => console.error(`SIGHUP: certificate not reloaded, the old one stays: ${e instanceof Error ? e.message : String(e)}`),
    );
  });
}
