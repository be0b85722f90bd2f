import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { busyboxRoot, push, writeLayout, type RegistryInfo } from '../server/integration/oci-registry';
import { e2eRegistry } from './global-setup';
import { expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

/** A registry on 127.0.0.1 (Debian's docker-registry) with a busybox image built here: nothing is downloaded. */
let reg: RegistryInfo;
let dir: string;

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-oci-'));
  reg = e2eRegistry();
  const layout = path.join(dir, 'layout');
  writeLayout(layout, [
    {
      tag: 'web',
      layers: [busyboxRoot(path.join(dir, 'root'))],
      config: { Cmd: ['/bin/sh', '-c', 'echo "web server up on $(cat /etc/hostname 2>/dev/null || echo a container)"; exec sleep 600'], Env: ['PATH=/bin'] },
    },
  ]);
  push(layout, 'web', reg, 'team/web:1.0');
});

test.afterAll(async () => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('pull an image from the Images page, follow its job, start a container from it and see its console', async ({ page }) => {
  test.setTimeout(180_000);
  await loginAsAdmin(page);
  await ConsolePage.preferDomRenderer(page);
  const baseURL = test.info().project.use.baseURL!;
  // A plain-HTTP test registry must be marked insecure first (Settings -> Registries does the same).
  const put = await page.request.put(`/api/registries/${encodeURIComponent(reg.host)}`, { data: { insecure: true }, headers: { origin: baseURL } });
  expect(put.ok()).toBeTruthy();

  const ref = `${reg.host}/team/web:1.0`;
  await page.goto('/images');
  await page.getByTestId('pull-ref').fill(ref);
  await page.getByRole('button', { name: 'Pull', exact: true }).click();
  const row = page.locator('[data-testid="image-row"][data-image^="oci-"]').filter({ hasText: ref });
  await expect(row).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const imageName = await row.getAttribute('data-image');
  await screenshotBothThemes(page, 'images-pull');

  await page.goto('/jobs');
  const job = page.getByTestId('job-row').filter({ hasText: `Pull ${ref}` });
  await expect(job).toHaveAttribute('data-state', 'succeeded');

  const name = randomName('oci');
  await page.goto('/machines');
  await page.getByRole('button', { name: '+ New machine' }).click();
  const form = page.getByRole('form', { name: 'New machine' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Kind').selectOption({ label: 'Container (nspawn)' });
  const image = form.getByLabel('Image');
  await image.selectOption({ label: `${imageName} · ${ref}` });
  await form.getByRole('button', { name: 'Create and start' }).click();
  const mrow = page.locator(`[data-testid="machine-row"][data-machine="${name}"]`);
  await expect(mrow).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await mrow.getByRole('link', { name }).click();
  await page.getByRole('tab', { name: 'Console' }).click();
  const con = new ConsolePage(page);
  await expect.poll(() => con.text(), { timeout: 20_000 }).toContain('web server up');

  // The Images page says who uses the image, and it cannot be deleted while they do.
  await page.goto('/images');
  const used = page.locator(`[data-testid="image-row"][data-image="${imageName}"]`);
  await expect(used.getByTestId('image-users')).toContainText(`in use by ${name}`);
  await expect(used.getByRole('button', { name: 'Delete' })).toBeDisabled();
  await page.goto(`/machines/${name}`);

  await page.getByRole('button', { name: 'Destroy' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Destroy' }).click();
  await expect(page).toHaveURL(/\/machines$/);
  // The test registry's settings go with it (later specs look at Settings).
  await page.request.delete(`/api/registries/${encodeURIComponent(reg.host)}`, { headers: { origin: baseURL } });
});
