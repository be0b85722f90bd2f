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
    const text = 'printf "\\033[2J\\033[H"; echo "Hangar display: hello from the VGA console"; uname -sr; date';
    const r = await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['sh', '-c', `(${text}) > /dev/tty1`] }, headers });
    expect((await r.json()).code).toBe(0);
    await expect.poll(() => litPixels(page), { timeout: 30_000 }).toBeGreaterThan(100);
    await expect(page.getByTestId('display-readonly')).toHaveCount(0);
    await expect(page.getByTestId('display-keys')).toBeEnabled();
    const thumb = page.getByTestId('screen-thumbnail');
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await axeProblems(page)).toEqual([]);
    await screenshotBothThemes(page, 'machine-display');
  } finally {
    await page.request.delete(`/api/machines/${name}`, { headers });
  }
});
