import { axeProblems, ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test("a VM's Overview lists its extra disks: add one (hot-plugged), grow it, detach and delete it", async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const name = randomName();
  const headers = { origin: test.info().project.use.baseURL! };
  expect((await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 128 }, headers })).status()).toBe(202);
  try {
    await page.goto(`/machines/${name}`);
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
    const panel = page.getByRole('region', { name: 'Disks' });
    await expect(panel.getByText('No extra disks.')).toBeVisible();
    // One made through the API beside the one made in the page: two rows to look at.
    expect(
      (await page.request.post(`/api/machines/${name}/disks`, { data: { name: 'logs', sizeGib: 4, bus: 'virtio-scsi', attach: false }, headers })).status(),
    ).toBe(201);
    await panel.getByRole('button', { name: 'Add disk' }).click();
    const form = panel.getByRole('form', { name: 'New disk' });
    await form.getByLabel('Name').fill('data');
    await form.getByLabel('Size (GiB)').fill('2');
    await form.getByRole('button', { name: 'Add' }).click();
    const data = panel.locator('[data-disk="data"]');
    await expect(data).toContainText('attached');
    await expect(data).toContainText('2 GiB');
    await expect(panel.locator('[data-disk="logs"]')).toContainText('detached');
    // The guest sees it.
    const serial = async () =>
      (await (await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['sh', '-c', 'cat /sys/block/vdb/serial'] }, headers })).json()).stdout;
    await expect.poll(serial, { timeout: 30_000 }).toBe('data');

    await data.getByRole('button', { name: 'Resize' }).click();
    await data.getByLabel('New size (GiB)').fill('3');
    await data.getByRole('button', { name: 'Grow' }).click();
    await expect(data).toContainText('3 GiB');
    expect(await axeProblems(page)).toEqual([]);
    await panel.scrollIntoViewIfNeeded();
    // The toasts (4 s) would cover the rows' buttons in the picture.
    await expect(page.getByRole('status').filter({ hasText: 'data' })).toHaveCount(0, { timeout: 10_000 });
    await screenshotBothThemes(page, 'machine-disks');
    // Shrinking is refused, and the page says why.
    await data.getByRole('button', { name: 'Resize' }).click();
    await data.getByLabel('New size (GiB)').evaluate((el: HTMLInputElement) => {
      el.min = '1';
      el.value = '1';
    });
    await data.getByRole('button', { name: 'Grow' }).click();
    await expect(panel.getByRole('alert')).toContainText('only grow');
    await expect(data.getByRole('button', { name: 'Delete' })).toBeDisabled();
    expect(await axeProblems(page)).toEqual([]);

    await data.getByRole('button', { name: 'Detach' }).click();
    await expect(data).toContainText('detached');
    await data.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await expect(data).toHaveCount(0);
  } finally {
    await page.request.delete(`/api/machines/${name}`, { headers });
  }
});
