import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('a live snapshot kept hot from the Snapshots page: its standbys and their cost shown, then turned off', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const name = randomName();
  const baseURL = test.info().project.use.baseURL!;
  const headers = { origin: baseURL };
  expect((await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 128 }, headers })).status()).toBe(202);
  await expect
    .poll(async () => ((await (await page.request.get(`/api/machines/${name}`)).json()) as { state: string }).state, { timeout: 90_000 })
    .toBe('running');
  expect((await page.request.post(`/api/machines/${name}/checkpoint`, { data: { label: `hot-${name}` }, headers })).status()).toBe(202);

  await page.goto('/snapshots');
  const row = page.locator('[data-testid="snapshot-row"]').filter({ hasText: `hot-${name}` });
  await expect(row).toContainText(/paused \d+ ms/, { timeout: 60_000 });
  await row.getByRole('switch', { name: 'Keep hot' }).click();
  await expect(row.getByRole('switch', { name: 'Hot' })).toHaveAttribute('aria-checked', 'true');
  await expect(row.getByTestId('hot-pool')).toContainText(/2 of 2 ready; .* resident, 256 MiB reserved/, { timeout: 60_000 });
  await screenshotBothThemes(page, 'snapshots-hot');
  await row.getByRole('switch', { name: 'Hot' }).click();
  await expect(row.getByRole('switch', { name: 'Keep hot' })).toHaveAttribute('aria-checked', 'false');
  await expect(row.getByTestId('hot-pool')).toHaveCount(0);

  // Later specs start with no machines or snapshots of this one (images.spec deletes the image, shell.spec sees an empty tree).
  const r = await page.request.delete(`/api/machines/${name}`, { headers });
  await expect.poll(async () => (await (await page.request.get(`/api/jobs/${(await r.json()).id}`)).json()).state, { timeout: 60_000 }).toBe('succeeded');
  const snaps = (await (await page.request.get('/api/snapshots')).json()).items as { id: string; label: string }[];
  for (const s of snaps.filter((x) => x.label === `hot-${name}`)) {
    expect((await page.request.delete(`/api/snapshots/${s.id}?cascade=true`, { headers })).status()).toBe(200);
  }
});
