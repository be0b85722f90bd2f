import { axeProblems, ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

/** Pixels of the noVNC canvas that are not the screen's black. */
const litPixels = (page: import('@playwright/test').Page) =>
  page.getByTestId('display-screen').evaluate((el) => {
    const c = el.querySelector('canvas');
    if (!c || !c.width || !c.height) return 0;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 40 || d[i + 1] > 40 || d[i + 2] > 40) lit++;
    return lit;
  });

test("a VM's Display tab draws its screen with noVNC; the header shows a screenshot", async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const name = randomName();
  const headers = { origin: test.info().project.use.baseURL! };
  expect((await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 128 }, headers })).status()).toBe(202);
  try {
    await page.goto(`/machines/${name}?tab=display`);
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
    await expect(page.getByRole('tab', { name: 'Display' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('display-status')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
    // The firmware's text first; then the guest writes its own (QEMU refreshes an idle screen less often: wait for the change).
    await expect.poll(() => litPixels(page), { timeout: 30_000 }).toBeGreaterThan(100);
    const before = await litPixels(page);
    // Hangar's guests boot their kernel directly with the console on the serial line (the kernel draws nothing on the
    // VGA): the test writes into the VGA text buffer itself, a line of white on blue on a cleared screen.
    const line = (row: number, text: string) =>
      `printf '${[...text].map((c) => `${c}\\037`).join('')}' | dd of=/dev/mem bs=1 seek=$((0xb8000 + 160 * ${row} + 40)) conv=notrunc 2>/dev/null`;
    const script = [
      'dd if=/dev/zero of=/dev/mem bs=32 seek=23552 count=125 conv=notrunc 2>/dev/null',
      line(10, ' Hangar: the Display tab shows the VM screen    '),
      line(12, ' drawn by noVNC through the Hangar websocket    '),
    ].join('; ');
    const r = await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['sh', '-c', script] }, headers });
    expect((await r.json()).code).toBe(0);
    // Two lines of white on blue: thousands of pixels more than the firmware's few words (a blinking cursor is not enough).
    await expect.poll(async () => (await litPixels(page)) - before, { timeout: 30_000 }).toBeGreaterThan(5000);
    await expect(page.getByTestId('display-readonly')).toHaveCount(0);
    await expect(page.getByTestId('display-keys')).toBeEnabled();
    const thumb = page.getByTestId('screen-thumbnail');
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await axeProblems(page)).toEqual([]);
    await screenshotBothThemes(page, 'machine-display');

    // The machine list shows running VMs' screens beside their names when asked (kept in the URL); a click opens the Display tab.
    await page.goto(`/machines?q=${name}`);
    await expect(page.locator(`[data-machine="${name}"]`)).toBeVisible();
    await expect(page.getByTestId('screen-thumbnail')).toHaveCount(0);
    // The switch is the URL's (?screens=1): it shows checked once the URL has changed, so click and wait for that.
    await page.getByLabel('Screens').click();
    await expect(page).toHaveURL(/screens=1/);
    await expect(page.getByLabel('Screens')).toBeChecked();
    const rowThumb = page.locator(`[data-machine="${name}"]`).getByTestId('screen-thumbnail');
    await expect.poll(() => rowThumb.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0);
    await screenshotBothThemes(page, 'machines-screens');
    await rowThumb.click();
    await expect(page.getByRole('tab', { name: 'Display' })).toHaveAttribute('aria-selected', 'true');

    // A read-only share link watches the same screen below its console; the page says it cannot type.
    const link = await (await page.request.post(`/api/machines/${name}/shares`, { data: { role: 'viewer' }, headers })).json();
    await page.goto(link.path);
    await expect(page.getByTestId('display-status')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
    await expect(page.getByTestId('display-readonly')).toBeVisible();
    await expect(page.getByTestId('display-keys')).toHaveCount(0);
    await expect.poll(() => litPixels(page), { timeout: 30_000 }).toBeGreaterThan(5000);
  } finally {
    await page.request.delete(`/api/machines/${name}`, { headers });
  }
});
