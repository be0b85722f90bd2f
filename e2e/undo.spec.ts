import fs from 'node:fs';
import { E2E_CLOCK_FILE } from '../playwright.config';
import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('turn the undo ring on, take a point, write a file, click Undo: the file is gone', async ({ page }) => {
  test.setTimeout(400_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const name = randomName();
  const baseURL = test.info().project.use.baseURL!;
  const headers = { origin: baseURL };
  // While the restore runs, exec answers an error (the machine is not running yet): that is an answer to poll past.
  const exec = async (cmd: string) => {
    try {
      const r = await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['sh', '-c', cmd] }, headers });
      const body = await r.json();
      return r.ok() ? (body.stdout.trim() as string) : `HTTP ${r.status()}: ${body.error?.message}`;
    } catch (err) {
      return `exec failed: ${(err as Error).message}`;
    }
  };
  expect((await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 256 }, headers })).status()).toBe(202);

  await page.goto(`/machines/${name}?tab=snapshots`);
  await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  const panel = page.getByTestId('undo-panel');
  await expect(panel).toContainText('Off: no undo points are taken.');
  const form = page.getByRole('form', { name: 'Undo ring settings' });
  await form.getByLabel('Every (minutes)').fill('5');
  await form.getByLabel('Points kept').fill('6');
  await form.getByRole('button', { name: 'Turn on' }).click();
  await expect(panel).toContainText('On: an undo point every 5 min, the newest 6 kept.');

  // A point now (the ring's own timer would take one in 5 minutes), then a file written after it.
  const ring = await (await page.request.get(`/api/machines/${name}/undo`)).json();
  const run = await (await page.request.post(`/api/schedules/${ring.scheduleId}/run`, { headers })).json();
  await expect.poll(async () => (await (await page.request.get(`/api/jobs/${run.id}`)).json()).state, { timeout: 90_000 }).toBe('succeeded');
  await expect(page.getByTestId('undo-point')).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('snapshot-row').filter({ hasText: 'undo point' }).first()).toBeVisible();
  expect(await exec('echo written > /root/marker; sync; cat /root/marker')).toBe('written');

  // Undo the last minute: the point must be a minute old first, on the server's clock of schedules and snapshots,
  // which this spec moves on by 61 s (clock.ts's test skew) rather than wait a minute.
  fs.writeFileSync(E2E_CLOCK_FILE, '61000');
  try {
    const undo = page.getByRole('form', { name: 'Undo' });
    await undo.getByLabel('Minutes to undo').fill('1');
    await undo.getByRole('button', { name: 'Undo the last' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Undo' }).click();
    await expect(page.getByText(/Restore .* to .*undo point.*: started/)).toBeVisible();
  } finally {
    fs.rmSync(E2E_CLOCK_FILE, { force: true });
  }
  await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  await expect.poll(() => exec('cat /root/marker 2>/dev/null || echo none'), { timeout: 90_000, intervals: [2000] }).toBe('none');
  // The toasts go by themselves; a taller window shows the header's Undo, the ring and the tree's undo points at once.
  await expect(page.getByText(/(Undo ring on|Restore .*): /)).toHaveCount(0, { timeout: 30_000 });
  await page.setViewportSize({ width: 1280, height: 1250 });
  await screenshotBothThemes(page, 'undo');
  await page.setViewportSize({ width: 1280, height: 720 });

  await form.getByRole('button', { name: 'Turn off' }).click();
  await expect(panel).toContainText('Off: no undo points are taken.');
  const r = await page.request.delete(`/api/machines/${name}`, { headers });
  await expect.poll(async () => (await (await page.request.get(`/api/jobs/${(await r.json()).id}`)).json()).state, { timeout: 60_000 }).toBe('succeeded');
  const snaps = (await (await page.request.get('/api/snapshots')).json()).items as { id: string; label: string }[];
  for (const s of snaps.filter((x) => x.label.startsWith(`${name} `))) {
    expect((await page.request.delete(`/api/snapshots/${s.id}?cascade=true`, { headers })).status()).toBe(200);
  }
});
