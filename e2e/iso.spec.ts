import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestIso } from '../server/integration/test-iso';
import { E2E_DATA } from '../playwright.config';
import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { DisplayPage } from './pages/display-page';

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

test("an ISO's boot menu on the Display tab: typed into from the browser; a read-only share link sees it and its keys do not reach the guest", async ({
  page,
  browser,
}) => {
  test.setTimeout(420_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const headers = { origin: test.info().project.use.baseURL! };
  // The integration tests' boot ISO (grub-mkrescue around this server's busybox guest), into the library.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-grub-'));
  const isoName = `${randomName('grub')}.iso`;
  const iso = buildTestIso(E2E_DATA, path.join(dir, isoName));
  const up = await page.request.post(`/api/isos?name=${isoName}`, {
    data: fs.readFileSync(iso),
    headers: { ...headers, 'content-type': 'application/octet-stream' },
  });
  expect(up.status(), await up.text()).toBe(201);
  fs.rmSync(dir, { recursive: true, force: true });
  const name = randomName('e2e-grub');
  const made = await page.request.post('/api/machines', { data: { name, iso: isoName, diskGib: 1, memoryMib: 256 }, headers });
  expect(made.status()).toBe(202);
  try {
    await page.goto(`/machines/${name}?tab=display`);
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 120_000 });
    const mine = new DisplayPage(page);
    await expect(mine.status()).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
    // grub's menu: white on blue over most of the screen, its entry highlighted by a grey bar.
    await expect.poll(() => mine.menuShown(), { timeout: 120_000, intervals: [1000] }).toBe(true);
    // Again, so that the header's screenshot (taken every 5 s) shows the menu too.
    await page.reload();
    await expect(mine.status()).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
    await expect.poll(() => mine.menuShown(), { timeout: 30_000 }).toBe(true);
    await screenshotBothThemes(page, 'machine-display-iso');

    // `c` for grub's command line, then a command typed into the canvas: its line and its output appear below the prompt.
    await mine.focus();
    await page.keyboard.press('c');
    const prompt = await mine.settledPromptRow();
    await page.keyboard.type('echo typed-in-browser');
    await page.keyboard.press('Enter');
    // Two more lines: the echo's output, and a new prompt (the cursor's row).
    await expect.poll(async () => DisplayPage.lastTextRow(await mine.rows()), { timeout: 30_000 }).toBe(prompt + 2);
    const typed = await mine.rows();
    expect(typed[prompt + 1]).toBeGreaterThan(200);

    // A read-only share link, in a browser with no account: the same lines on its screen.
    const link = (await (await page.request.post(`/api/machines/${name}/shares`, { data: { role: 'viewer' }, headers })).json()) as {
      path: string;
      token: string;
    };
    const ctx = await browser.newContext();
    try {
      const guestPage = await ctx.newPage();
      await guestPage.goto(link.path);
      const guest = new DisplayPage(guestPage);
      await expect(guest.status()).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
      await expect(guestPage.getByTestId('display-readonly')).toBeVisible();
      await expect.poll(async () => DisplayPage.textRows(await guest.rows()), { timeout: 30_000 }).toEqual(DisplayPage.textRows(typed));
      // The watcher types a command and Enter: were they to reach grub, its error and another prompt would follow.
      // Its page does not send them (noVNC's view-only); a client of its own on the link's socket does, and the server drops them.
      await guest.focus();
      await guestPage.keyboard.type('xyzzy');
      await guestPage.keyboard.press('Enter');
      expect(await DisplayPage.sendKeysRaw(guestPage, name, link.token, 'xyzzy\r')).toBe('RFB 003.008\n');
      await mine.focus();
      await page.keyboard.type('echo owner-again');
      await page.keyboard.press('Enter');
      await expect.poll(async () => DisplayPage.lastTextRow(await mine.rows()), { timeout: 30_000 }).toBeGreaterThanOrEqual(prompt + 4);
      expect(DisplayPage.lastTextRow(await mine.rows())).toBe(prompt + 4);
      // The watcher sees the owner's lines too.
      await expect.poll(async () => DisplayPage.lastTextRow(await guest.rows()), { timeout: 30_000 }).toBe(prompt + 4);
    } finally {
      await ctx.close();
    }
  } finally {
    await page.request.delete(`/api/machines/${name}`, { headers });
    // The ISO goes once the machine (destroyed as a job) no longer has it in its drive.
    await expect.poll(async () => (await page.request.delete(`/api/isos/${isoName}`, { headers })).status(), { timeout: 60_000, intervals: [1000] }).toBe(200);
  }
});
