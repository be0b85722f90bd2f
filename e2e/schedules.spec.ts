import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('add a schedule on the Snapshots tab (a bad cron named), run it, see its snapshot and last run', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const name = randomName();
  const baseURL = test.info().project.use.baseURL!;
  const headers = { origin: baseURL };
  const created = await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 256 }, headers });
  expect(created.status()).toBe(202);

  await page.goto(`/machines/${name}?tab=snapshots`);
  await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  const form = page.getByRole('form', { name: 'Add a schedule' });
  await form.getByLabel(/^Cron/).fill('99 * * * *');
  await form.getByLabel('Time zone').fill('Europe/Berlin');
  await form.getByRole('button', { name: 'Add schedule' }).click();
  await expect(form.getByRole('alert')).toContainText('cron: not a cron expression');
  await form.getByLabel(/^Cron/).fill('0 3 * * *');
  await form.getByRole('button', { name: 'Add schedule' }).click();
  const row = page.getByTestId('schedule-row');
  await expect(row).toContainText('0 3 * * *');
  await expect(row).toContainText('Europe/Berlin');
  await expect(row).toContainText('not yet');

  const list = await (await page.request.get(`/api/machines/${name}/schedules`)).json();
  const run = await page.request.post(`/api/schedules/${list.items[0].id}/run`, { headers });
  expect(run.status()).toBe(202);
  await expect(page.getByTestId('snapshot-tree').locator('[data-testid="snapshot-row"]').filter({ hasText: 'scheduled' })).toContainText('live', {
    timeout: 60_000,
  });
  await expect(row).toContainText('succeeded', { timeout: 30_000 });
  // The toasts of the steps above would cover the snapshot row's buttons: they go by themselves.
  await expect(page.getByText(/Schedule added|Scheduled snapshot/)).toHaveCount(0, { timeout: 15_000 });
  await screenshotBothThemes(page, 'schedules');

  await row.getByRole('button', { name: /Remove schedule/ }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
  await expect(row).toHaveCount(0);
  const r = await page.request.delete(`/api/machines/${name}`, { headers });
  await expect.poll(async () => (await (await page.request.get(`/api/jobs/${(await r.json()).id}`)).json()).state, { timeout: 60_000 }).toBe('succeeded');
  // Snapshots outlive their machine: the scheduled one goes too, so later specs start from an empty tree.
  const snaps = (await (await page.request.get('/api/snapshots')).json()).items as { id: string; label: string }[];
  for (const s of snaps.filter((x) => x.label.startsWith(`${name} `))) {
    expect((await page.request.delete(`/api/snapshots/${s.id}?cascade=true`, { headers })).status()).toBe(200);
  }
});
