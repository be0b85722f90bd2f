import { expect, loginAsAdmin, screenshotBothThemes, test } from './fixtures';

test('build the busybox image from the Images page and watch it become ready', async ({ page }) => {
  test.setTimeout(240_000);
  await loginAsAdmin(page);
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
  await expect(page.getByTestId('job-row').filter({ hasText: 'Build image busybox' })).toHaveAttribute('data-state', 'succeeded');
});
