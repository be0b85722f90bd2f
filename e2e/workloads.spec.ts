import { ensureImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

// Named to run after images.spec.ts (files run in name order): that test starts from an empty image list.

test('start an nspawn container from the UI on a NAT network with a port forward, type in its console, destroy it', async ({ page }) => {
  test.setTimeout(900_000);
  await loginAsAdmin(page);
  await ensureImage(page, 'debian-12');
  await ConsolePage.preferDomRenderer(page);
  const name = randomName('ct');

  await page.goto('/machines');
  await page.getByRole('button', { name: '+ New machine' }).click();
  const form = page.getByRole('form', { name: 'New machine' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Kind').selectOption('nspawn');
  await form.getByLabel('Image').selectOption('debian-12');
  await form.getByLabel('Memory (MiB)').fill('256');
  await form.getByLabel(/^Network/).selectOption('nat');
  await form.getByLabel(/^Forward ports/).fill('18580:80');
  await screenshotBothThemes(page, 'new-container');
  await form.getByRole('button', { name: 'Create and start' }).click();

  const row = page.locator(`[data-testid="machine-row"][data-machine="${name}"]`);
  await expect(row).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await row.getByRole('link', { name }).click();
  await expect(page.getByText(/NAT network, address 10\.213\./)).toBeVisible();
  await expect(page.getByText('127.0.0.1:18580→80')).toBeVisible();

  await page.getByRole('tab', { name: 'Console' }).click();
  const con = new ConsolePage(page);
  await expect(con.status()).toHaveAttribute('data-status', 'live');
  // systemd's boot and the autologin, from the first line.
  await expect.poll(() => con.text(), { timeout: 30_000 }).toContain(`root@${name}`);
  await con.type('echo "host=$(hostname)"; ip -4 -br addr show host0\n');
  await expect.poll(() => con.text(), { timeout: 20_000 }).toContain(`host=${name}`);
  await expect.poll(() => con.text(), { timeout: 20_000 }).toMatch(/host0\S*\s+UP\s+10\.213\./);
  await screenshotBothThemes(page, 'container');

  await page.getByRole('button', { name: 'Destroy' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Destroy' }).click();
  await expect(page).toHaveURL(/\/machines$/);
  await expect(page.locator(`[data-testid="machine-row"][data-machine="${name}"]`)).toHaveCount(0, { timeout: 30_000 });
});
