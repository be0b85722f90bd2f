import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('build a chain on the Steps page, watch the tree grow, start a machine from a node', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const word = randomName('motd');

  await page.goto('/steps');
  const form = page.getByRole('form', { name: 'Chain builder' });
  const chain = form.getByLabel('Chain');
  // Checked as typed, against the same step schemas the server uses.
  await chain.fill('busybox + apt "not a package"');
  await expect(form.getByRole('alert')).toContainText('apt: packages.0: a Debian package name');
  await expect(form.getByRole('button', { name: 'Build' })).toBeDisabled();
  // Steps are picked from the catalog: a base replaces the chain's base, a step goes at the end.
  await chain.fill('debian-12 + exec -- true');
  await form.getByRole('button', { name: 'os.busybox' }).click();
  await form.getByRole('button', { name: 'probe', exact: true }).click();
  await expect(chain).toHaveValue('busybox + exec -- true + probe ');
  await expect(form.getByRole('alert')).toContainText('probe: url');
  await chain.fill(`busybox + file /etc/motd "${word}" + exec -- cat /etc/motd`);
  await form.getByRole('button', { name: 'Build' }).click();

  const tree = page.getByTestId('step-tree');
  await expect(tree.locator('[data-step="exec"]')).toBeVisible({ timeout: 120_000 });
  await expect(tree.locator('[data-step="os.busybox"]')).toBeVisible();
  await expect(tree.locator('[data-step="file"]').filter({ hasText: '/etc/motd' }).first()).toBeVisible();
  await screenshotBothThemes(page, 'steps');

  const before = (await (await page.request.get('/api/machines')).json()).items.length;
  await tree.locator('[data-step="file"]').first().getByRole('button', { name: 'Start machine' }).click();
  await expect
    .poll(async () => (await (await page.request.get('/api/machines')).json()).items.filter((m: { state: string }) => m.state === 'running').length, {
      timeout: 60_000,
    })
    .toBeGreaterThan(before);
});

// Whatever happened: the build's machine and the fork go before the test server stops (machines outlive it by design).
test.afterEach(async ({ page }) => {
  const baseURL = test.info().project.use.baseURL!;
  for (const m of (await (await page.request.get('/api/machines')).json()).items)
    await page.request.delete(`/api/machines/${m.id}`, { headers: { origin: baseURL } });
  await expect.poll(async () => (await (await page.request.get('/api/machines')).json()).items.length, { timeout: 60_000 }).toBe(0);
});
