import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { createApiClient } from '@/lib/api-client';
import { clearConfig, loadConfig, saveConfig } from '../config';
import { CliError, printJson, readStdin } from '../output';
import { installTrust } from '../tls-trust';
import { tokenFromBrowser } from './login-browser';
import { trustForLogin } from './login-tls';

export async function login(argv: string[], json: boolean): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      username: { type: 'string', short: 'u' },
      'password-stdin': { type: 'boolean', default: false },
      ca: { type: 'string' },
      fingerprint: { type: 'string' },
      'accept-new': { type: 'boolean', default: false },
      browser: { type: 'boolean', default: false },
    },
  });
  const url = (values.url ?? loadConfig().url).replace(/\/+$/, '');
  // The certificate is settled before a password or token goes out.
  const tls = await trustForLogin(url, { ca: values.ca, fingerprint: values.fingerprint, acceptNew: values['accept-new'] }, (l) => console.error(l));
  if (tls) await installTrust(tls);
  let token = values.token ?? (values['password-stdin'] || values.username ? undefined : process.env.HANGAR_TOKEN);

  // Through the browser when asked, or when the server takes no passwords (single sign-on only) and none was given.
  const browser =
    !token && (values.browser || (!values.username && !values['password-stdin'] && !process.env.HANGAR_PASSWORD && !(await passwordsAccepted(url))));
  if (browser) token = await tokenFromBrowser(url, (l) => console.error(l));
  if (!token) {
    const username = values.username ?? 'admin';
    const password = values['password-stdin']
      ? (await readStdin()).replace(/\r?\n$/, '')
      : process.env.HANGAR_PASSWORD || (await promptHidden(`Password for ${username}@${url}: `));
    token = await tokenFromPassword(url, username, password);
  }
  const me = await createApiClient({ baseUrl: url, token }).auth.me();
  saveConfig({ url, token, ...(tls ? { tls } : {}) });
  if (json) printJson({ url, user: me.user.username, role: me.role, ...(tls?.fingerprint256 ? { fingerprint256: tls.fingerprint256 } : {}) });
  else console.log(`Logged in to ${url} as ${me.user.username} (${me.role}).`);
}

/** Whether the server's login page takes passwords (no: single sign-on only, save the break-glass admin). */
async function passwordsAccepted(url: string): Promise<boolean> {
  try {
    return (await createApiClient({ baseUrl: url }).sso.options()).localLogin;
  } catch {
    return true;
  }
}

/** Log in with the password once, and keep an API token instead of the password or a cookie. */
async function tokenFromPassword(url: string, username: string, password: string): Promise<string> {
  let cookie = '';
  // Not a browser: we send our own Origin, which is what the server's CSRF check compares.
  const withCookie: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(input, { ...init, headers });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return res;
  };
  const api = createApiClient({ baseUrl: url, fetch: withCookie });
  await api.auth.login({ username, password });
  const host = (await import('node:os')).hostname();
  const created = await api.tokens.create({ name: `cli@${host}`.slice(0, 64) });
  await api.auth.logout();
  return created.secret;
}

async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError('No terminal to ask for a password: use --token, --password-stdin or HANGAR_PASSWORD.');
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stdout.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  const answer = rl.question(question);
  muted = true;
  const pw = await answer;
  rl.close();
  process.stdout.write('\n');
  return pw;
}

export async function logout(json: boolean): Promise<void> {
  const cfg = loadConfig();
  clearConfig();
  if (json) printJson({ url: cfg.url, loggedOut: true });
  else console.log(`Forgot the saved token for ${cfg.url}. Revoke it in Settings → API tokens if it may have leaked.`);
}
