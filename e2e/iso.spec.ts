import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

/** A small ISO 9660 image made here (xorriso): the library keeps it; it boots nothing, which the page does not need. */
function tinyIso(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-iso-'));
  fs.mkdirSync(path.join(dir, 'root'));
  fs.writeFileSync(path.join(dir, 'root', 'README.TXT'), 'Hangar e2e ISO\n');
  const out = path.join(dir, 'e2e-tiny.iso');
  const r = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'HANGAR_E2E', '-o', out, path.join(dir, 'root')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xorriso failed: ${r.stderr}`);
  return out;
}

test('the ISO library on the Images page, and Install from ISO in New machine', async ({ page }) => {
  test.setTimeout(240_000);
  await loginAsAdmin(page);
  const origin = test.info().project.use.baseURL!;
  const iso = tinyIso();
  await page.goto('/images');
  const library = page.getByTestId('iso-library');
  await expect(library.getByRole('heading', { name: 'ISOs' })).toBeVisible();
  // Not an ISO: refused by the server, nothing listed.
  await library.getByTestId('iso-name').fill('junk.iso');
  await library.getByTestId('iso-file').setInputFiles({ name: 'junk.iso', mimeType: 'application/octet-stream', buffer: Buffer.alloc(40_000, 1) });
  await expect(page.getByText(/not an ISO 9660 or UDF image/)).toBeVisible();
  await library.getByTestId('iso-name').fill('');
  await library.getByTestId('iso-file').setInputFiles(iso);
  const row = library.locator('[data-testid="iso-row"][data-iso="e2e-tiny.iso"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText('ISO 9660');
  await expect(row).toContainText('not in use');
  await expect(library.locator('[data-testid="iso-row"][data-iso="junk.iso"]')).toHaveCount(0);

  // New machine -> Install from ISO: the library's ISO, a disk size, the firmware.
  const name = randomName('e2e-iso');
  await page.goto('/machines');
  await page.getByRole('button', { name: '+ New machine' }).click();
  const form = page.getByRole('form', { name: 'New machine' });
  await form.getByLabel('Name').fill(name);
  await form.getByTestId('new-machine-from').selectOption('iso');
  await expect(form.getByTestId('new-machine-iso')).toHaveValue('e2e-tiny.iso');
  await form.getByLabel('Disk (GiB)').fill('2');
  await form.getByLabel('Memory (MiB)').fill('128');
  await expect(form.getByLabel('Firmware')).toContainText('BIOS');
  await screenshotBothThemes(page, 'new-machine-iso');
  await form.getByRole('button', { name: 'Create and start' }).click();
  await expect
    .poll(async () => ((await (await page.request.get(`/api/machines/${name}`)).json()) as { state?: string }).state, { timeout: 120_000, intervals: [1000] })
    .toBe('running');
  const m = (await (await page.request.get(`/api/machines/${name}`)).json()) as { cdrom: string; firmware: string; image: string };
  expect(m).toMatchObject({ cdrom: 'e2e-tiny.iso', firmware: 'bios', image: '' });

  // Its Overview: the disc in the drive, ejected and inserted again live.
  await page.goto(`/machines/${name}?tab=overview`);
  const drive = page.getByTestId('cdrom-control');
  await expect(drive).toContainText('e2e-tiny.iso');
  await expect(drive).toContainText('BIOS');
  await drive.getByRole('button', { name: 'Eject' }).click();
  await expect(drive).toContainText('empty');
  await drive.getByRole('button', { name: 'Insert' }).click();
  await expect(drive).toContainText('e2e-tiny.iso');
  await screenshotBothThemes(page, 'machine-cdrom');

  // The library marks it in use, and will not delete it.
  await page.goto('/images');
  await expect(row.getByTestId('iso-in-use')).toHaveText(`in use by ${name}`);
  await expect(row.getByRole('button', { name: 'Delete' })).toBeDisabled();
  await row.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'images-isos');

  const destroy = await page.request.delete(`/api/machines/${name}`, { headers: { origin } });
  expect(destroy.status()).toBe(202);
  await expect(row.getByTestId('iso-in-use')).toHaveCount(0, { timeout: 60_000 });
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  fs.rmSync(path.dirname(iso), { recursive: true, force: true });
});
