import { expect, loginAsAdmin, screenshotBothThemes, test, E2E_ADMIN_PASSWORD } from './fixtures';
import { LoginPage } from './pages/login-page';

test('anonymous visitors are sent to login, and land where they were going', async ({ page }) => {
  await page.goto('/jobs');
  await expect(page).toHaveURL(/\/login\?next=%2Fjobs/);
  const login = new LoginPage(page);
  await login.login('admin', 'wrong-password');
  await expect(login.error()).toContainText('Wrong username or password');
  await screenshotBothThemes(page, 'login');
  await login.login('admin', E2E_ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.getByRole('heading', { name: 'Jobs', exact: true })).toBeVisible();
});

test('sidebar and empty states say what to do next', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/machines');
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const item of ['Machines', 'Snapshots', 'Steps', 'Images', 'Jobs', 'Settings']) await expect(nav.getByRole('link', { name: item })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'No machines yet' })).toBeVisible();
  await screenshotBothThemes(page, 'machines');
  for (const [link, heading] of [
    ['Snapshots', 'No snapshots yet'],
    ['Steps', 'No cached steps yet'],
    ['Images', 'Images'],
  ] as const) {
    await nav.getByRole('link', { name: link }).click();
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
  }
});

test('theme toggle switches and is remembered', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/machines');
  const html = page.locator('html');
  const wasDark = await html.evaluate((el) => el.classList.contains('dark'));
  await page.getByRole('button', { name: wasDark ? 'Switch to light theme' : 'Switch to dark theme' }).click();
  await expect(html).toHaveClass(wasDark ? /^(?!.*dark)/ : /dark/);
  await page.reload();
  await expect(html).toHaveClass(wasDark ? /^(?!.*dark)/ : /dark/);
});

test('logout ends the session', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/machines');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/machines');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('on a phone the navigation, theme toggle and logout stay reachable', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await loginAsAdmin(page);
  await page.goto('/jobs');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' })).toBeAttached();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Switch to (dark|light) theme/ })).toBeVisible();
  await screenshotBothThemes(page, 'jobs-mobile');
});
