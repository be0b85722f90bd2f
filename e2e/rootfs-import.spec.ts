import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tarOf } from '../server/drivers/rootfs/tar-fixture';
import { expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

/** A busybox-static root filesystem tarred here (nothing downloaded), uploaded from the Images page. */
let dir: string;

test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-rootfs-'));
  const root = path.join(dir, 'root');
  for (const d of ['bin', 'etc', 'usr', 'dev', 'proc', 'sys', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  fs.symlinkSync('busybox', path.join(root, 'bin/sh'));
  fs.writeFileSync(path.join(root, 'etc/motd'), 'from the page\n');
  execFileSync('tar', ['--numeric-owner', '-C', root, '-cJf', path.join(dir, 'busybox-rootfs.tar.xz'), '.']);
  fs.writeFileSync(
    path.join(dir, 'escape.tar'),
    tarOf([
      { name: './', type: '5' },
      { name: '../outside', data: 'x' },
    ]),
  );
});

test.afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('upload a root filesystem tarball from the Images page; a hostile one is refused with the reason', async ({ page }) => {
  test.setTimeout(120_000);
  await loginAsAdmin(page);
  const name = randomName('rootfs');
  await page.goto('/images');
  const form = page.getByTestId('rootfs-import');
  await form.getByTestId('rootfs-name').fill(name);
  await form.getByTestId('rootfs-file').setInputFiles(path.join(dir, 'busybox-rootfs.tar.xz'));
  const row = page.locator(`[data-testid="image-row"][data-image="${name}"]`);
  await expect(row).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(row).toContainText('root filesystem · busybox-rootfs.tar.xz');
  await expect(row).toContainText('xz');
  await screenshotBothThemes(page, 'images-rootfs');

  await form.getByTestId('rootfs-name').fill(`${name}-bad`);
  await form.getByTestId('rootfs-file').setInputFiles(path.join(dir, 'escape.tar'));
  await expect(page.getByText('escape.tar: entry "../outside" goes up out of the image root')).toBeVisible();
  await expect(page.locator(`[data-testid="image-row"][data-image="${name}-bad"]`)).toHaveCount(0);

  // Later specs start from an empty Images page.
  const origin = test.info().project.use.baseURL!;
  const img = ((await (await page.request.get('/api/images')).json()) as { items: { id: string; name: string }[] }).items.find((i) => i.name === name);
  expect((await page.request.delete(`/api/images/${img!.id}`, { headers: { origin } })).status()).toBe(200);
});
