import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

test('create a machine in the UI, watch it run, type uname -a in its serial console, destroy it', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  await ConsolePage.preferDomRenderer(page);
  const name = randomName();

  await page.goto('/machines');
  await page.getByRole('button', { name: '+ New machine' }).click();
  const form = page.getByRole('form', { name: 'New machine' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Memory (MiB)').fill('256');
  await form.getByRole('button', { name: 'Create and start' }).click();

  const row = page.locator(`[data-testid="machine-row"][data-machine="${name}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  await row.getByRole('link', { name }).click();
  await expect(page).toHaveURL(new RegExp(`/machines/${name}$`));
  await expect(page.getByRole('tab', { name: 'Overview' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running');
  await expect(page.getByText(/TCG|KVM/).first()).toBeVisible();

  // Overview: live graphs fed over /events (the CPU figure appears once two samples were taken).
  const charts = page.getByTestId('machine-charts');
  await expect(charts.getByRole('img', { name: /^CPU: of 1 vCPU \d/ })).toBeVisible({ timeout: 20_000 });
  await expect(charts.getByRole('img', { name: /^Memory: host \(qemu RSS\) \d/ })).toBeVisible();
  // The guest agent reports its network while the page is open.
  await expect(charts.getByRole('img', { name: /^Network: in \d/ })).toBeVisible({ timeout: 30_000 });
  await screenshotBothThemes(page, 'machine-overview');

  await page.getByRole('tab', { name: 'Boot log' }).click();
  await expect(page.getByTestId('boot-log')).toContainText(`hangar-ready ${name}`);

  await page.getByRole('tab', { name: 'Serial console' }).click();
  await expect(page).toHaveURL(new RegExp(`/machines/${name}\\?tab=console$`));
  const con = new ConsolePage(page);
  await expect(con.status()).toHaveAttribute('data-status', 'live');
  // The boot log is there from the first line, though nobody watched the boot.
  await expect.poll(() => con.text(), { timeout: 20_000 }).toContain(`hangar-ready ${name}`);
  await con.type('uname -a\n');
  await expect.poll(() => con.text(), { timeout: 20_000 }).toMatch(new RegExp(`Linux ${name} 6\\.`));
  await screenshotBothThemes(page, 'machine');

  await page.getByRole('button', { name: 'Destroy' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Destroy' }).click();
  await expect(page).toHaveURL(/\/machines$/);
  await expect(page.locator(`[data-testid="machine-row"][data-machine="${name}"]`)).toHaveCount(0, { timeout: 30_000 });
});
