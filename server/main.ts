import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCore } from './core/hangar';
import { defaultDataDir, projectRoot } from './core/paths';
import { createHttpServer, type UiHandler } from './http';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  ui: boolean;
  dev: boolean;
  adminPassword?: string;
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
    },
    allowPositionals: false,
  });
  const port = Number(values.port ?? process.env.HANGAR_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  return {
    host: values.host ?? process.env.HANGAR_HOST ?? '127.0.0.1',
    port,
    dataDir: path.resolve(values.data ?? defaultDataDir()),
    databaseUrl: process.env.DATABASE_URL || undefined,
    ui: !values['no-ui'] && process.env.HANGAR_NO_UI !== '1',
    dev: values.dev,
    adminPassword: process.env.HANGAR_ADMIN_PASSWORD || undefined,
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
  const core = await createCore({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, version: version() });
  const admin = await core.auth.ensureAdmin(opts.adminPassword);
  const ui = opts.ui ? await createUi(opts.dev, opts.host, opts.port) : null;
  const http = createHttpServer(core, ui);
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  // Probe the host in the background, once start-up is over; /api/host waits for it if asked sooner.
  setTimeout(() => void core.host.info().catch((e) => console.error('host probe failed:', e)), 3000).unref();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await http.close();
      await core.close();
    })());
  return { url, port, core, http, admin, startupMs: performance.now() - t0, close };
}

export async function main(argv: string[]): Promise<void> {
  const opts = serveOptionsFromArgs(argv);
  const s = await serve(opts);
  console.log(`Hangar ${s.core.version} listening on ${s.url}`);
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
}
