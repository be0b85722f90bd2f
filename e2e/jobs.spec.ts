import { expect, loginAsAdmin, screenshotBothThemes, setTheme, test } from './fixtures';

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

test('a job started by a job folds under it, and only the job you started raises a toast', async ({ page }) => {
  await loginAsAdmin(page);
  await page.goto('/jobs');
  const baseURL = test.info().project.use.baseURL!;
  // A demo job that starts three sub-jobs one after another and waits for each, as a build does.
  const res = await page.request.post('/api/jobs/demo', { data: { seconds: 4.5, steps: 6, children: 3 }, headers: { origin: baseURL } });
  expect(res.status()).toBe(202);
  const parent = (await res.json()) as { id: string; title: string };
  const row = page.locator(`[data-testid="job-row"][data-job-id="${parent.id}"]`);
  const kids = row.getByRole('list', { name: `Sub-jobs of ${parent.title}` });
  // Open while it runs: the sub-jobs show under it as they start, not as rows of their own.
  await expect.poll(() => kids.getByTestId('job-row').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.locator('main [data-testid="job-row"][data-depth="0"] > div').filter({ hasText: 'Demo sub-job' })).toHaveCount(0);
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    await page.screenshot({ path: `test-results/jobs-nested-${theme}.png` });
  }
  await setTheme(page, 'light');
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 30_000 });
  await expect(kids.getByTestId('job-row')).toHaveCount(3);
  await expect(kids.locator('[data-state="succeeded"]')).toHaveCount(3);
  // One toast: the parent's. The sub-jobs ended quietly.
  const toasts = page.getByRole('status');
  await expect(toasts).toContainText(`${parent.title}: done`);
  await expect(toasts.getByText(/Demo sub-job/)).toHaveCount(0);
  // Folded and unfolded by the person.
  const toggle = row.getByRole('button', { name: '3 sub-jobs' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await toggle.click();
  await expect(kids).toBeHidden();
  await toggle.click();
  await expect(kids.getByTestId('job-row')).toHaveCount(3);
});
