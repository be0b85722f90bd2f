import { axeProblems, expect, loginAsAdmin, screenshotBothThemes, test } from './fixtures';

test('the Nodes page shows this host as the one node, with its capabilities and use, and why no node can join', async ({ page }) => {
  await loginAsAdmin(page);
  const host = (await (await page.request.get('/api/host')).json()) as { cpus: number; capabilities: { name: string; available: boolean }[] };
  const available = host.capabilities.filter((c) => c.available).map((c) => c.name);
  expect(available.length).toBeGreaterThan(0);

  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).click();
  await expect(page).toHaveURL(/\/nodes$/);
  await expect(page.getByRole('heading', { name: 'Nodes', level: 1 })).toBeVisible();

  const cards = page.getByTestId('node-card');
  await expect(cards).toHaveCount(1);
  const card = cards.first();
  await expect(card).toHaveAttribute('data-state', 'online');
  await expect(card.getByText('this node')).toBeVisible();
  await expect(card.getByTestId('node-heartbeat')).toHaveText('just now');
  // The probe's capabilities as chips, every available one and no other.
  for (const c of available) await expect(card.locator(`[data-capability="${c}"]`)).toBeVisible();
  await expect(card.locator('[data-capability]')).toHaveCount(available.length);
  // Memory and disk measured now: a bar with a share, and "used / total" in words.
  for (const key of ['memory', 'disk']) {
    const bar = card.locator(`[data-usage="${key}"]`);
    await expect(bar.getByRole('meter')).toHaveAttribute('aria-valuenow', /^\d+$/);
    await expect(bar).toContainText(/\d.* \/ \d/);
  }
  await expect(card.locator('[data-usage="cpu"]')).toContainText(`of ${host.cpus} CPUs`);
  await expect(card.getByTestId('node-machines')).toHaveText(/^\d+ machines?$/);
  // One node: nothing to drain or remove.
  await expect(card.getByRole('button', { name: 'Drain' })).toHaveCount(0);
  await expect(card.getByRole('button', { name: 'Remove' })).toHaveCount(0);

  // SQLite: how to make a cluster, and Join token disabled with the reason said beside it.
  await expect(page.getByTestId('solo-note')).toContainText('hangar up --cluster-join URL --token T');
  await expect(page.getByTestId('solo-note')).toContainText('DATABASE_URL=');
  const join = page.getByRole('button', { name: 'Join token' });
  await expect(join).toBeDisabled();
  await expect(page.getByTestId('join-disabled-reason')).toHaveText(/needs PostgreSQL/);
  await expect(join).toHaveAccessibleDescription(/needs PostgreSQL/);

  // The API says the same: no token on one node (409 with the reason), no open tokens listed.
  const origin = test.info().project.use.baseURL!;
  const made = await page.request.post('/api/nodes/join-tokens', { data: {}, headers: { origin } });
  expect(made.status()).toBe(409);
  expect(((await made.json()) as { error: { message: string } }).error.message).toMatch(/PostgreSQL/);
  expect(((await (await page.request.get('/api/nodes/join-tokens')).json()) as { items: unknown[] }).items).toEqual([]);

  expect(await axeProblems(page)).toEqual([]);
  await screenshotBothThemes(page, 'nodes');
});
