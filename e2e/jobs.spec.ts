import { expect, loginAsAdmin, screenshotBothThemes, test } from './fixtures';

test('a demo job shows live progress, finishes with a toast, and keeps its log', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/jobs');
  await page.getByRole('button', { name: 'Run demo job' }).click();
  const row = page.getByTestId('job-row').first();
  await expect(row).toHaveAttribute('data-state', 'running');
  // Progress arrives over the /events socket, not by polling: it rises while we watch.
  const bar = row.getByRole('progressbar');
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  await screenshotBothThemes(page, 'jobs');
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 20_000 });
  await expect(page.getByRole('status')).toContainText('done');
  await row.getByRole('button').first().click();
  await expect(row.getByLabel('Job log')).toContainText('step 16/16 done');
});

test('cancel stops a running job', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/jobs');
  await page.getByRole('button', { name: 'Run demo job' }).click();
  const row = page.getByTestId('job-row').first();
  await expect(row).toHaveAttribute('data-state', 'running');
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toHaveAttribute('data-state', 'cancelled');
});
