import fs from 'node:fs';
import { axeProblems, ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('upload a file into a running machine on its Files tab, download it back, a missing path said', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const name = randomName();
  const headers = { origin: test.info().project.use.baseURL! };
  expect((await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 128 }, headers })).status()).toBe(202);
  try {
    await page.goto(`/machines/${name}?tab=files`);
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
    await expect(page.getByRole('tab', { name: 'Files' })).toHaveAttribute('aria-selected', 'true');

    const upload = page.getByRole('region', { name: 'Upload a file' });
    await upload.getByLabel('Into the directory').fill('tmp');
    await expect(upload.getByText('an absolute path in the machine (starts with /)')).toBeVisible();
    await upload.getByLabel('Into the directory').fill('/tmp');
    await page.getByTestId('upload-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the browser\n') });
    await upload.getByRole('button', { name: 'Upload' }).click();
    await expect(page.getByTestId('upload-done')).toContainText('/tmp/notes.txt');
    const inGuest = await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['cat', '/tmp/notes.txt'] }, headers });
    expect((await inGuest.json()).stdout).toBe('hello from the browser\n');

    const download = page.getByRole('region', { name: 'Download a file' });
    await download.getByLabel('Path in the machine').fill('/tmp/missing.txt');
    await download.getByRole('button', { name: 'Download' }).click();
    await expect(page.getByText('/tmp/missing.txt in ' + name + ' not found.')).toBeVisible();
    await download.getByLabel('Path in the machine').fill('/tmp/notes.txt');
    const [file] = await Promise.all([page.waitForEvent('download'), download.getByRole('button', { name: 'Download' }).click()]);
    expect(file.suggestedFilename()).toBe('notes.txt');
    expect(fs.readFileSync((await file.path())!, 'utf8')).toBe('hello from the browser\n');

    expect(await axeProblems(page)).toEqual([]);
    await expect(page.getByText(/Uploaded notes.txt|not found/)).toHaveCount(0, { timeout: 15_000 });
    await screenshotBothThemes(page, 'machine-files');
  } finally {
    await page.request.delete(`/api/machines/${name}`, { headers });
  }
});
