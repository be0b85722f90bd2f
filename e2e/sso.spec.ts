import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestProvider, type TestProvider } from '../server/integration/oidc-world';
import { axeProblems, ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

/** Single sign-on in Chromium through a real OpenID provider (oidc-provider on 127.0.0.1): its login and consent pages, back signed in. */
let idp: TestProvider;

test.afterAll(async () => {
  await idp?.close();
});

test('signs in with the test provider: the button on the login page, the provider pages, back with the mapped role', async ({ page, browser }) => {
  const baseURL = test.info().project.use.baseURL!;
  idp = await startTestProvider([`${baseURL}/sso/callback`], {
    erin: { email: 'erin@example.com', email_verified: true, groups: ['hangar-ops'] },
  });
  await loginAsAdmin(page);
  const made = await page.request.post('/api/sso/providers', {
    headers: { origin: baseURL },
    data: {
      name: 'Test IdP',
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      scopes: 'openid email profile groups',
      roleClaim: 'groups',
      roleMap: { 'hangar-ops': 'operator' },
      allowedDomains: ['example.com'],
    },
  });
  expect(made.status()).toBe(201);
  const provider = await made.json();
  try {
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'Sign-in providers' });
    await expect(section.getByText('Test IdP', { exact: true })).toBeVisible();
    await page.getByRole('region', { name: 'Limits', exact: true }).scrollIntoViewIfNeeded();
    await page.getByRole('region', { name: 'Limits', exact: true }).screenshot({ path: 'docs/screenshots/settings-limits-light.png' });
    await section.screenshot({ path: 'docs/screenshots/settings-sso-light.png' });
    expect(await axeProblems(page)).toEqual([]);
    // A teammate sent a machine's link: signing in through the provider lands on that machine.
    await ensureBusyboxImage(page);
    const machine = randomName('sso');
    const created = await page.request.post('/api/machines', { headers: { origin: baseURL }, data: { name: machine, image: 'busybox', start: false } });
    expect(created.status()).toBe(202);
    await expect.poll(async () => (await page.request.get(`/api/machines/${machine}`)).status(), { timeout: 30_000 }).toBe(200);
    const ctx = await browser.newContext();
    const other = await ctx.newPage();
    await other.goto(`/machines/${machine}`);
    await expect(other).toHaveURL(new RegExp(`/login\\?next=${encodeURIComponent(`/machines/${machine}`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const button = other.getByRole('link', { name: 'Sign in with Test IdP' });
    await expect(button).toBeVisible();
    await screenshotBothThemes(other, 'login-sso');
    expect(await axeProblems(other)).toEqual([]);
    await button.click();
    // The provider's own pages (its development login and consent forms).
    await other.locator('input[name="login"]').fill('erin');
    await other.locator('input[name="password"]').fill('any');
    await other.getByRole('button', { name: /sign-in/i }).click();
    await other.getByRole('button', { name: 'Continue' }).click();
    await expect(other).toHaveURL(`${baseURL}/machines/${machine}`);
    await expect(other.getByTestId('machine-state')).toBeVisible();
    const me = await (await other.request.get('/api/auth/me')).json();
    expect(me).toMatchObject({ user: { username: 'erin' }, role: 'operator' });

    // The CLI signs in through this browser (no password exists for erin): hangar login --browser.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-cli-'));
    const cli = spawn(process.execPath, ['dist/cli.js', 'login', '--url', baseURL, '--browser'], {
      env: { ...process.env, XDG_CONFIG_HOME: home, HANGAR_URL: '', HANGAR_TOKEN: '', HANGAR_PASSWORD: '', HANGAR_NO_BROWSER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    cli.stdout.on('data', (b) => (out += b));
    cli.stderr.on('data', (b) => (err += b));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', resolve));
    try {
      await expect.poll(() => /(http\S+\/cli-login\?\S+)/.exec(err)?.[1] ?? null).not.toBeNull();
      await other.goto(/(http\S+\/cli-login\?\S+)/.exec(err)![1]);
      await expect(other.getByText('cli@', { exact: false }).first()).toBeVisible();
      await other.screenshot({ path: 'docs/screenshots/cli-login-light.png' });
      await other.getByRole('button', { name: 'Sign in the CLI' }).click();
      expect(await exited).toBe(0);
      expect(out).toContain(`Logged in to ${baseURL} as erin (operator)`);
    } finally {
      cli.kill();
      fs.rmSync(home, { recursive: true, force: true });
    }
    await ctx.close();
    await page.request.delete(`/api/machines/${machine}`, { headers: { origin: baseURL } });
  } finally {
    await page.request.delete(`/api/sso/providers/${provider.id}`, { headers: { origin: baseURL } });
  }
});
