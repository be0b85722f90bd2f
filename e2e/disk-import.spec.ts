import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

/** A small qcow2 made here with qemu-img (nothing downloaded), uploaded from the Images page; a text file is refused. */
let dir: string;

test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-disk-'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(dir, 'cloud.qcow2'), '64M']);
  fs.writeFileSync(path.join(dir, 'notes.img'), 'not a disk\n'.repeat(200));
});

test.afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('upload a VM disk image from the Images page: listed with its format and virtual size; a file that is not a disk is refused', async ({ page }) => {
  test.setTimeout(120_000);
  await loginAsAdmin(page);
  const name = randomName('disk');
  await page.goto('/images');
  const form = page.getByTestId('disk-import');
  await form.getByTestId('disk-name').fill(name);
  await form.getByTestId('disk-file').setInputFiles(path.join(dir, 'cloud.qcow2'));
  const row = page.locator(`[data-testid="image-row"][data-image="${name}"]`);
  await expect(row).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(row.getByTestId('disk-facts')).toContainText('VM disk · qcow2 · 64 MiB virtual · BIOS · upload:cloud.qcow2');
  await screenshotBothThemes(page, 'images-disk');

  await form.getByTestId('disk-name').fill(`${name}-bad`);
  await form.getByTestId('disk-file').setInputFiles(path.join(dir, 'notes.img'));
  await expect(page.getByText('notes.img is not a disk image (no qcow2 header, no MBR or GPT partition table): nothing was imported')).toBeVisible();
  await expect(page.locator(`[data-testid="image-row"][data-image="${name}-bad"]`)).toHaveCount(0);

  // Later specs start from an empty Images page.
  const origin = test.info().project.use.baseURL!;
  const img = ((await (await page.request.get('/api/images')).json()) as { items: { id: string; name: string }[] }).items.find((i) => i.name === name);
  expect((await page.request.delete(`/api/images/${img!.id}`, { headers: { origin } })).status()).toBe(200);
});
