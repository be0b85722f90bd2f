import { expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { LoginPage } from './pages/login-page';

test('admin adds a user who logs in with that role; disabling them logs them out; the audit log shows it all', async ({ page, browser }) => {
  await loginAsAdmin(page);
  await page.goto('/settings');
  const name = randomName('u').replace('-', '');
  const add = page.getByRole('form', { name: 'Add user' });
  await add.getByLabel('Username').fill(name);
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByRole('button', { name: 'Add user' }).click();
  const password = (await page.getByTestId('new-password').textContent())!;
  expect(password.length).toBeGreaterThanOrEqual(16);
  const row = page.locator(`[data-user="${name}"]`);
  await expect(row.getByRole('combobox', { name: `Role of ${name}` })).toHaveValue('viewer');
  await page.getByRole('heading', { name: 'Users', exact: true }).evaluate((e) => e.closest('section')?.scrollIntoView({ block: 'start' }));
  await screenshotBothThemes(page, 'settings-users');

  // The teammate, in a browser of their own.
  const ctx = await browser.newContext();
  const other = await ctx.newPage();
  await other.goto('/machines');
  await new LoginPage(other).login(name, password);
  await expect(other).toHaveURL(/\/machines$/);
  const nav = other.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Machines' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  await other.goto('/settings');
  await expect(other.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await expect(other.getByRole('heading', { name: 'Users', exact: true })).toHaveCount(0);
  await expect(other.getByRole('list', { name: 'Sessions' }).getByText('this browser')).toBeVisible();

  // Disabled: their next request is refused and the page goes to the login.
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row.getByRole('button', { name: 'Enable' })).toBeVisible();
  await other.goto('/machines');
  await expect(other).toHaveURL(/\/login/);
  await ctx.close();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.locator('tr[data-action="user.update"]').first()).toBeVisible();
  await expect(page.locator('tr[data-action="user.create"]').first()).toContainText(name);
  const filter = page.getByRole('form', { name: 'Filter audit events' });
  await filter.getByLabel(/^Action/).fill('user.');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('tbody tr').first()).toHaveAttribute('data-action', /^user\./);
  await expect(page.locator('tr[data-action^="auth."]')).toHaveCount(0);
  await screenshotBothThemes(page, 'audit');
  const download = page.waitForEvent('download');
  await filter.getByRole('link', { name: 'Export JSON lines' }).click();
  const file = await (await download).path();
  const lines = (await import('node:fs'))
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string });
  expect(lines.length).toBeGreaterThanOrEqual(2);
  expect(lines.every((l) => l.action.startsWith('user.'))).toBe(true);
});
