import { expect, loginAsAdmin, screenshotBothThemes, test } from './fixtures';

test('build the busybox image from the Images page and watch it become ready', async ({ page }) => {
  test.setTimeout(240_000);
  await loginAsAdmin(page);
  // Specs that run before this one (backups, files) built busybox for their machines and destroyed
  // them: the image goes first (refused until their destroy jobs end, and while snapshots stand on it), so the build starts from nothing.
  const origin = test.info().project.use.baseURL!;
  const snaps = ((await (await page.request.get('/api/snapshots')).json()) as { items: { id: string; image: string }[] }).items;
  for (const s of snaps.filter((x) => x.image === 'busybox')) await page.request.delete(`/api/snapshots/${s.id}?cascade=true`, { headers: { origin } });
  const built = ((await (await page.request.get('/api/images')).json()) as { items: { id: string; name: string }[] }).items.find((i) => i.name === 'busybox');
  if (built)
    await expect
      .poll(async () => (await page.request.delete(`/api/images/${built.id}`, { headers: { origin } })).status(), { timeout: 60_000, intervals: [1000] })
      .toBe(200);
  await page.goto('/images');
  await expect(page.getByRole('heading', { name: 'No images yet' })).toBeVisible();
  await page.getByRole('button', { name: 'Build busybox' }).click();
  const row = page.locator('[data-testid="image-row"][data-image="busybox"]');
  // With the guest kernel already in the shared download cache the build takes a second or two: 'building' may be gone already.
  await expect(row).toHaveAttribute('data-state', /^(building|ready)$/);
  await expect(row).toHaveAttribute('data-state', 'ready', { timeout: 200_000 });
  await expect(page.getByRole('button', { name: 'Build busybox' })).toHaveCount(0);
  await screenshotBothThemes(page, 'images');
  await page.goto('/jobs');
  // The newest build (an earlier spec's may be listed below it).
  await expect(page.getByTestId('job-row').filter({ hasText: 'Build image busybox' }).first()).toHaveAttribute('data-state', 'succeeded');
});
