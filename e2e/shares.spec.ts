import { axeProblems, expect, randomName, runningMachine, screenshotBothThemes, setTheme, test } from './fixtures';
import { ConsolePage } from './pages/console-page';
import { LoginPage } from './pages/login-page';

const title =
  'a read-only share link: a second browser without an account watches live and cannot type; revoking closes it; ' + 'a teammate given the machine operates it';
test(title, async ({ page, browser }) => {
  test.setTimeout(300_000);
  await ConsolePage.preferDomRenderer(page);
  const name = randomName('shr');
  const { baseURL, con: mine } = await runningMachine(page, { name, memoryMib: 256, query: '?tab=console' });
  await expect.poll(() => mine.text(), { timeout: 20_000 }).toContain(`hangar-ready ${name}`);
  const consoleTab = page.getByRole('tab', { name: 'Serial console' });
  const settingsTab = page.getByRole('tab', { name: 'Settings' });

  await settingsTab.click();
  const panel = page.getByRole('region', { name: 'Share' });
  const form = panel.getByRole('form', { name: 'New share link' });
  await form.getByLabel('Access').selectOption('viewer');
  await form.getByLabel('Expires in').selectOption('86400');
  await form.getByLabel('Label (optional)').fill('for a teammate');
  await form.getByRole('button', { name: 'Create link' }).click();
  const link = (await panel.getByTestId('share-link').textContent())!;
  expect(link).toMatch(new RegExp(`^${baseURL}/s/hgs_`));
  await expect(panel.getByRole('list', { name: 'Share links' }).locator('li[data-state="active"]')).toContainText('for a teammate');
  await panel.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshotBothThemes(page, 'share-panel');

  // The teammate: a fresh browser, no account, no cookie.
  const ctx = await browser.newContext();
  const guestPage = await ctx.newPage();
  await ConsolePage.preferDomRenderer(guestPage);
  await guestPage.goto(link);
  await expect(guestPage.getByRole('heading', { name })).toBeVisible();
  await expect(guestPage.getByText('read-only: you can watch, not type')).toBeVisible();
  const guest = new ConsolePage(guestPage);
  await expect(guest.status()).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
  await consoleTab.click();
  await expect(mine.status()).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
  await mine.type('echo live-$((6*7))\n');
  await expect.poll(() => guest.text(), { timeout: 20_000 }).toContain('live-42');
  await guest.type('echo guest-typed-$((1+1))\n');
  await mine.type('echo after-$((2+3))\n');
  await expect.poll(() => mine.text(), { timeout: 20_000 }).toContain('after-5');
  expect(await mine.text()).not.toContain('guest-typed-2');
  await screenshotBothThemes(guestPage, 'shared-console');
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(guestPage, theme);
    expect(await axeProblems(guestPage), `the shared console page, ${theme}`).toEqual([]);
  }

  // Revoked: the guest's console closes at once, and the page says the link is dead.
  await settingsTab.click();
  await panel.getByRole('list', { name: 'Share links' }).locator('li[data-state="active"]').getByRole('button', { name: 'Revoke' }).click();
  await expect(guest.status()).toHaveAttribute('data-status', 'error', { timeout: 10_000 });
  await guestPage.reload();
  await expect(guestPage.getByRole('heading', { name: 'This link does not open anything' })).toBeVisible();
  await ctx.close();

  // A teammate with a viewer account, given this one machine to operate.
  expect(
    (await page.request.post('/api/users', { data: { username: 'gina', role: 'viewer', password: 'gina-password-1' }, headers: { origin: baseURL } })).status(),
  ).toBe(201);
  const people = page.getByRole('region', { name: 'People' });
  await people.getByLabel('Username').fill('gina');
  await people.getByLabel('Role here').selectOption('operator');
  await people.getByRole('button', { name: 'Give access' }).click();
  await expect(people.locator('li[data-grant="gina"]')).toContainText('operator');
  await people.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshotBothThemes(page, 'machine-people');
  const ctx2 = await browser.newContext();
  const gina = await ctx2.newPage();
  await ConsolePage.preferDomRenderer(gina);
  await gina.goto(`/machines/${name}/console`);
  await new LoginPage(gina).login('gina', 'gina-password-1');
  await expect(gina).toHaveURL(new RegExp(`/machines/${name}/console$`));
  const ginaCon = new ConsolePage(gina);
  await expect(ginaCon.status()).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
  await expect(gina.getByText('read-only for you')).toHaveCount(0);
  await ginaCon.type('echo gina-$((7*6))\n');
  await consoleTab.click();
  await expect.poll(() => mine.text(), { timeout: 20_000 }).toContain('gina-42');
  await gina.goto(`/machines/${name}`);
  await expect(gina.getByRole('button', { name: 'Pause' })).toBeVisible();
  await expect(gina.getByRole('button', { name: 'Destroy' })).toHaveCount(0);
  await gina.getByRole('tab', { name: 'Settings' }).click();
  await expect(gina.getByRole('heading', { name: 'Tags' })).toBeVisible();
  await expect(gina.getByRole('region', { name: 'Share' })).toHaveCount(0);
  await ctx2.close();

  // A member not given this machine: the link lands on "ask the owner", with no hint that it exists.
  expect(
    (await page.request.post('/api/users', { data: { username: 'milo', role: 'member', password: 'milo-password-1' }, headers: { origin: baseURL } })).status(),
  ).toBe(201);
  const ctx3 = await browser.newContext();
  const milo = await ctx3.newPage();
  await milo.goto(`/machines/${name}`);
  await new LoginPage(milo).login('milo', 'milo-password-1');
  await expect(milo.getByRole('heading', { name: 'No such machine here' })).toBeVisible();
  await expect(milo.getByText('Ask its owner for access')).toBeVisible();
  await expect(milo.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Images' })).toHaveCount(0);
  await ctx3.close();
});

test.afterEach(async ({ page }) => {
  const baseURL = test.info().project.use.baseURL!;
  for (const m of (await (await page.request.get('/api/machines')).json()).items)
    await page.request.delete(`/api/machines/${m.id}`, { headers: { origin: baseURL } });
  await expect.poll(async () => (await (await page.request.get('/api/machines')).json()).items.length, { timeout: 60_000 }).toBe(0);
});
