import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { axeProblems, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('an admin adds a webhook in Settings; a loopback URL is refused until allowed; its delivery is listed', async ({ page }) => {
  // A real receiver on this host: Hangar refuses it until the admin allows private targets.
  const got: string[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b) => (body += b));
    req.on('end', () => (got.push(body), res.writeHead(204).end()));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hangar`;
  try {
    await loginAsAdmin(page);
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'Webhooks' });
    const form = section.getByRole('form', { name: 'Add a webhook' });
    await form.getByLabel(/^URL/).fill(url);
    await form.getByLabel('user.created').check();
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page.getByText(/Webhook URL refused: .*loopback/)).toBeVisible();
    await expect(section.getByTestId('webhook')).toHaveCount(0);

    const saved = page.waitForResponse((r) => r.url().endsWith('/api/settings') && r.request().method() === 'PATCH');
    await section.getByLabel(/Allow webhooks to this host/).check();
    expect((await saved).status()).toBe(200);
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await expect(section.getByTestId('new-webhook-secret')).toHaveText(/^whsec_/);
    const hook = section.getByTestId('webhook').filter({ hasText: url });
    await expect(hook).toContainText('user.created');

    // An event it asked for: a user added in the Users section.
    const users = page.getByRole('form', { name: 'Add user' });
    await users.getByLabel('Username').fill(randomName('hook').replace('-', ''));
    await users.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => got.length).toBeGreaterThan(0);
    expect(JSON.parse(got[0])).toMatchObject({ event: 'user.created' });

    await hook.getByRole('button', { name: 'Deliveries' }).click();
    const row = hook.getByTestId('webhook-delivery').first();
    await expect(row).toContainText('user.created');
    await expect(row).toContainText('succeeded');
    await expect(row).toContainText('204');
    expect(await axeProblems(page)).toEqual([]);
    // The toasts of the steps above would cover the picture: they go by themselves.
    await expect(page.getByText(/Webhook URL refused|Webhook added/)).toHaveCount(0);
    await section.evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await screenshotBothThemes(page, 'settings-webhooks');
    await hook.getByRole('button', { name: 'Delete' }).click();
    await expect(section.getByTestId('webhook').filter({ hasText: url })).toHaveCount(0);
  } finally {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  }
});
