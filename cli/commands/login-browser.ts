import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createApiClient } from '@/lib/api-client';
import { CliError } from '../output';

const WAIT_MS = 5 * 60_000;

/** xdg-open when there is one (and HANGAR_NO_BROWSER is not set); the page is printed either way. */
function openInBrowser(url: string): void {
  if (process.env.HANGAR_NO_BROWSER) return;
  const opener = (process.env.PATH ?? '')
    .split(path.delimiter)
    .map((d) => path.join(d, 'xdg-open'))
    .find((f) => fs.existsSync(f));
  if (!opener) return;
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}

/**
 * `hangar login --browser` (for single sign-on, or no password at hand): a one-time listener on
 * 127.0.0.1, the server's /cli-login page opened in the browser where the person is signed in,
 * the code it sends back traded with our verifier (PKCE S256) for an API token.
 */
export async function tokenFromBrowser(url: string, log: (line: string) => void): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  let deliver: (code: string) => void = () => undefined;
  const got = new Promise<string>((resolve) => (deliver = resolve));
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/callback' || u.searchParams.get('state') !== state || !u.searchParams.get('code')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Not a sign-in for this hangar login.');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Hangar</title><p>Signed in. You can close this tab.</p>');
    deliver(u.searchParams.get('code')!);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const name = `cli@${os.hostname()}`.slice(0, 64);
  const page = `${url}/cli-login?port=${port}&state=${state}&challenge=${challenge}&name=${encodeURIComponent(name)}`;
  log(`Open this page in a browser where you are signed in to Hangar, and say yes:\n  ${page}`);
  openInBrowser(page);
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await Promise.race([
      got,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CliError('No answer from the browser within 5 minutes.')), WAIT_MS))),
    ]);
    // Not a browser: we send our own Origin, which is what the server's CSRF check compares.
    const withOrigin: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('origin', url);
      return fetch(input, { ...init, headers });
    };
    return (await createApiClient({ baseUrl: url, fetch: withOrigin }).auth.redeemCliLogin({ code, verifier })).secret;
  } finally {
    clearTimeout(timer);
    server.close();
  }
}
