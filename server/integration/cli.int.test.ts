import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@/server/drivers/exec';
import { spawn } from 'node:child_process';
import { ADMIN_PASSWORD, loginCookie, type RunningServer, startServer, tearDown, until } from './harness';

let srv: RunningServer;
let home: string;

beforeAll(async () => {
  srv = await startServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-'));
});
afterAll(async () => {
  await tearDown(srv, undefined);
  fs.rmSync(home, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) =>
  run([process.execPath, 'dist/cli.js', ...args], { input, timeoutMs: 30_000, env: { XDG_CONFIG_HOME: home, HANGAR_URL: '', HANGAR_TOKEN: '' } });

describe('hangar CLI', () => {
  it('logs in with a password once, keeps only an API token, and reports status as JSON', async () => {
    const login = await cli(['login', '--url', srv.url, '-u', 'admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`);
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${srv.url} as admin (admin)`);
    const saved = fs.readFileSync(path.join(home, 'hangar', 'config.json'), 'utf8');
    expect(saved).toMatch(/"token": "hgr_/);
    expect(saved).not.toContain(ADMIN_PASSWORD);
    expect(fs.statSync(path.join(home, 'hangar', 'config.json')).mode & 0o777).toBe(0o600);

    const status = await cli(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ url: srv.url, health: { ok: true }, user: { username: 'admin', role: 'admin' }, machines: 0 });
  });

  it('logs in through the browser: the page it prints, a yes from a signed-in session, a token for that person; the code works once', async () => {
    const home2 = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-cli-browser-'));
    const env = { ...process.env, XDG_CONFIG_HOME: home2, HANGAR_URL: '', HANGAR_TOKEN: '', HANGAR_PASSWORD: '', HANGAR_NO_BROWSER: '1' };
    const child = spawn(process.execPath, ['dist/cli.js', 'login', '--url', srv.url, '--browser'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await until(() => /\/cli-login\?\S+/.test(err), 'the page the CLI prints');
      const page = new URL(/(http\S+\/cli-login\?\S+)/.exec(err)![1]);
      const [port, state, challenge] = ['port', 'state', 'challenge'].map((k) => page.searchParams.get(k)!);
      const post = (p: string, body: unknown, cookie?: string) =>
        fetch(`${srv.url}/api${p}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: srv.url, ...(cookie ? { cookie } : {}) },
          body: JSON.stringify(body),
        });
      // Not signed in: no code.
      expect((await post('/auth/cli-login', { challenge, name: 'cli@test' })).status).toBe(401);
      const cookie = await loginCookie(srv.url);
      const approved = await post('/auth/cli-login', { challenge, name: page.searchParams.get('name') }, cookie);
      expect(approved.status).toBe(201);
      const { code } = (await approved.json()) as { code: string };
      // What the page does next: send the browser to the CLI's port with the code and the CLI's state.
      expect((await fetch(`http://127.0.0.1:${port}/callback?code=${code}&state=forged`)).status).toBe(400);
      expect((await fetch(`http://127.0.0.1:${port}/callback?code=${code}&state=${state}`)).status).toBe(200);
      expect(await exited, err).toBe(0);
      expect(out).toContain(`Logged in to ${srv.url} as admin (admin)`);
      expect(fs.readFileSync(path.join(home2, 'hangar', 'config.json'), 'utf8')).toMatch(/"token": "hgr_/);
      // The code was used; a fresh one with another verifier than its challenge's is refused too.
      const verifier = 'v'.repeat(43);
      expect((await post('/auth/cli-token', { code, verifier })).status).toBe(400);
      const other = (await (await post('/auth/cli-login', { challenge, name: 'cli@test' }, cookie)).json()) as { code: string };
      const wrong = await post('/auth/cli-token', { code: other.code, verifier });
      expect([wrong.status, ((await wrong.json()) as { error: { message: string } }).error.message]).toEqual([
        400,
        expect.stringContaining('verifier does not match'),
      ]);
    } finally {
      child.kill();
      fs.rmSync(home2, { recursive: true, force: true });
    }
  });

  it('fails clearly, with a non-zero exit, on a wrong password, an unknown command or no server', async () => {
    const bad = await cli(['login', '--url', srv.url, '-u', 'admin', '--password-stdin'], 'wrong\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Wrong username or password/);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
    const down = await run([process.execPath, 'dist/cli.js', 'status'], { env: { XDG_CONFIG_HOME: home, HANGAR_URL: 'http://127.0.0.1:9', HANGAR_TOKEN: '' } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Cannot reach Hangar/);
  });

  it('names snapshots one way: the help says how, and a name that matches nothing says so', async () => {
    const help = await cli(['help']);
    expect(help.stdout).toContain('SNAP: a snapshot id, or its label when one snapshot alone has it');
    expect(help.stdout).toContain('a machine name (fork now), then a label: a machine wins over a label');
    const show = await cli(['snapshot', 'show', 'no such snapshot']);
    expect(show).toMatchObject({ code: 1, stderr: 'hangar: Snapshot "no such snapshot" (no snapshot has this id or label) not found.\n' });
    expect(await cli(['fork', 'nobody', '-n', '2'])).toMatchObject({ code: 1, stderr: expect.stringContaining('No snapshot or machine "nobody"') });
    expect(await cli(['restore', 'snp_doesnotexist00'])).toMatchObject({ code: 1, stderr: expect.stringContaining('not found') });
    expect(await cli(['snapshot', 'show'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: hangar snapshot show SNAPSHOT') });
  });
});
