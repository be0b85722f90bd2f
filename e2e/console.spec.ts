import { expect, loginAsAdmin, screenshotBothThemes, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

test('host console: off by default, turned on in Settings, echoes typing and survives a reload', async ({ page }) => {
  await loginAsAdmin(page);
  await ConsolePage.preferDomRenderer(page);
  await page.goto('/console');
  await expect(page.getByRole('heading', { name: 'The host shell is turned off' })).toBeVisible();

  await page.getByRole('link', { name: /Turn it on in Settings/ }).click();
  const toggle = page.getByRole('checkbox', { name: /Host shell console for admins/ });
  await expect(toggle).not.toBeChecked();
  await toggle.check();
  await expect(toggle).toBeChecked();

  await page.getByRole('link', { name: 'Host console' }).click();
  const con = new ConsolePage(page);
  await expect(con.status()).toHaveAttribute('data-status', 'live');
  const marker = `e2e-${Date.now().toString(36)}`;
  await con.type(`echo hi-${marker}\n`);
  await expect.poll(() => con.text()).toContain(`hi-${marker}`);
  await screenshotBothThemes(page, 'console');

  // Same tab, same client-made session id: the shell and its scrollback are still there.
  // Typed as soon as the terminal shows, without waiting for the console to attach: the keys wait for it, none is lost.
  await page.reload();
  await con.type(`echo again-$((6*7))-${marker}\n`);
  await expect(con.status()).toHaveAttribute('data-status', 'live');
  await expect.poll(() => con.text()).toContain(`echo hi-${marker}`);
  await expect.poll(() => con.text()).toContain(`again-42-${marker}`);

  // Leave the setting off again for the other tests.
  await page.goto('/settings');
  await page.getByRole('checkbox', { name: /Host shell console for admins/ }).uncheck();
});

test('settings lists host capabilities with reasons and makes API tokens shown once', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/settings');
  const caps = page.getByRole('region', { name: 'Host capabilities' });
  await expect(caps.locator('[data-capability="qemu"]')).toBeVisible({ timeout: 40_000 });
  await expect(caps.locator('[data-capability="kvm"]')).toBeVisible();
  await screenshotBothThemes(page, 'settings');
  // Settings -> Registries shows this Hangar's publishing key (image server) and the trusted publishers.
  const publishers = page.getByTestId('trusted-publishers');
  await expect(publishers).toContainText(/[A-Za-z0-9+/]{43}= \(SHA256:/);
  await publishers.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'settings-registries');
  await page.getByPlaceholder('laptop CLI').fill('e2e token');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByTestId('new-token')).toHaveText(/^hgr_/);
  await expect(page.getByRole('region', { name: 'API tokens' }).getByText('e2e token')).toBeVisible();
});
