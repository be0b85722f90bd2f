import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('add a directory backup target in Settings, back up a snapshot from its row, see the backup listed', async ({ page }) => {
  test.setTimeout(240_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const baseURL = test.info().project.use.baseURL!;
  const headers = { origin: baseURL };
  const jobDone = (id: string) =>
    expect.poll(async () => (await (await page.request.get(`/api/jobs/${id}`)).json()).state, { timeout: 90_000, intervals: [500] }).toBe('succeeded');
  const name = randomName();
  const label = `${name} before backup`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-backups-'));
  const created = await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 256 }, headers });
  expect(created.status()).toBe(202);
  await jobDone((await created.json()).id);
  const cp = await page.request.post(`/api/machines/${name}/checkpoint`, { data: { label }, headers });
  await jobDone((await cp.json()).id);

  await page.goto('/settings');
  const form = page.getByRole('form', { name: 'Add a backup target' });
  const target = randomName('e2e-dir');
  await form.getByLabel('Name').fill(target);
  await form.getByLabel(/^Absolute path/).fill(path.join(dir, 'missing'));
  await form.getByRole('button', { name: 'Add target' }).click();
  await expect(form.getByRole('alert')).toContainText('it does not exist');
  await form.getByLabel(/^Absolute path/).fill(dir);
  await form.getByRole('button', { name: 'Add target' }).click();
  const row = page.locator(`[data-testid="backup-target"][data-name="${target}"]`);
  await expect(row).toContainText(dir);

  await page.goto(`/machines/${name}?tab=snapshots`);
  const snap = page.getByTestId('snapshot-row').filter({ hasText: label });
  await snap.getByRole('button', { name: 'Back up' }).click();
  await expect(page.getByText(/Back up .* started/)).toBeVisible();
  const jobs = (await (await page.request.get('/api/jobs?limit=20')).json()).items as { id: string; kind: string }[];
  await jobDone(jobs.find((j) => j.kind === 'backup.create')!.id);

  await page.goto('/settings');
  await row.getByRole('button', { name: 'Backups' }).click();
  const backup = row.getByTestId('backup-row');
  await expect(backup).toHaveAttribute('data-label', label);
  await expect(backup).toContainText(name);
  await expect(backup.getByRole('button', { name: 'Restore' })).toBeEnabled();
  await expect(page.getByText(/Backup target added/)).toHaveCount(0, { timeout: 15_000 });
  await row.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'backups');

  // Cleanup: the machine, its snapshot, the target and the directory.
  const r = await page.request.delete(`/api/machines/${name}`, { headers });
  await jobDone((await r.json()).id);
  const snaps = (await (await page.request.get('/api/snapshots')).json()).items as { id: string; label: string }[];
  for (const s of snaps.filter((x) => x.label.startsWith(`${name} `))) await page.request.delete(`/api/snapshots/${s.id}?cascade=true`, { headers });
  expect((await page.request.delete(`/api/backup-targets/${target}`, { headers })).status()).toBe(200);
  fs.rmSync(dir, { recursive: true, force: true });
});
