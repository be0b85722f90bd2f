import { expect, randomName, runningMachine, screenshotBothThemes, test } from './fixtures';

/**
 * A recording link: from a machine's Recordings, a read-only, expiring link to one recording.
 * A second browser without an account opens it and sees that recording in the player with its
 * markers (and no Restore/Fork, no console); revoked, the link opens nothing.
 */
let made: string | null = null;
test.afterEach(async ({ page }) => {
  if (!made) return;
  const headers = { origin: test.info().project.use.baseURL! };
  // Later specs expect no machines or snapshots left over: the machine, then its checkpoint.
  const r = await page.request.delete(`/api/machines/${made}`, { headers });
  if (r.status() === 202)
    await expect.poll(async () => (await (await page.request.get(`/api/jobs/${(await r.json()).id}`)).json()).state, { timeout: 60_000 }).toBe('succeeded');
  const snaps = (await (await page.request.get('/api/snapshots')).json()).items as { id: string; label: string }[];
  for (const s of snaps.filter((x) => x.label === `${made}-mark`)) await page.request.delete(`/api/snapshots/${s.id}?cascade=true`, { headers });
  made = null;
});

test('a recording link opens that recording with its markers in a browser without an account; revoked, it opens nothing', async ({ page, browser }) => {
  test.setTimeout(300_000);
  const name = randomName('rsh');
  made = name;
  const { baseURL, headers, con } = await runningMachine(page, { name, record: true });
  await con.type('echo shared-$((4*5))\n');
  await expect.poll(() => con.text()).toContain('shared-20');
  const cp = await (await page.request.post(`/api/machines/${name}/checkpoint`, { data: { label: `${name}-mark` }, headers })).json();
  await expect.poll(async () => (await (await page.request.get(`/api/jobs/${cp.id}`)).json()).state, { timeout: 60_000 }).toBe('succeeded');

  // The owner makes a link to this one recording, with an expiry.
  const recordings = page.getByRole('region', { name: 'Recordings' });
  await expect(recordings.getByTestId('recording')).toHaveCount(1, { timeout: 20_000 });
  await recordings.getByRole('button', { name: 'Share' }).click();
  const form = recordings.getByRole('form', { name: 'New recording link' });
  await form.getByLabel('Link expires in').selectOption('3600');
  await form.getByLabel('Label (optional)').fill('for review');
  await form.getByRole('button', { name: 'Make link' }).click();
  const link = (await recordings.getByTestId('recording-share-link').textContent())!;
  expect(link).toMatch(new RegExp(`^${baseURL}/r/hgs_`));
  const links = recordings.getByRole('list', { name: 'Recording links' });
  await expect(links).toContainText('for review');
  await recordings.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshotBothThemes(page, 'recording-links');

  // Someone without an account: the player with the recording's markers, and nothing to act with.
  const ctx = await browser.newContext();
  const guest = await ctx.newPage();
  await guest.goto(link);
  await expect(guest.getByRole('heading', { name: new RegExp(name) })).toBeVisible({ timeout: 30_000 });
  await expect(guest.getByText(/read-only recording/)).toBeVisible();
  const player = guest.getByTestId('recording-player');
  await expect(player.locator('.ap-player')).toBeVisible({ timeout: 30_000 });
  const markers = guest.getByTestId('recording-marker');
  await expect(markers.first()).toHaveAttribute('data-kind', 'command', { timeout: 30_000 });
  await expect(markers.first()).toContainText('echo shared-$((4*5))');
  await expect(guest.locator('[data-testid="recording-marker"][data-kind="checkpoint"]')).toContainText(`${name}-mark`);
  await expect(player.locator('.ap-marker-container').first()).toBeAttached({ timeout: 30_000 });
  await expect(guest.getByRole('button', { name: 'Restore here' })).toHaveCount(0);
  await expect(guest.getByRole('button', { name: 'Fork here' })).toHaveCount(0);
  await expect(guest.getByTestId('terminal')).toHaveCount(0);
  // Jumping to the checkpoint shows the console as it was there (the player plays at the recording's own pace).
  await guest
    .locator('[data-testid="recording-marker"][data-kind="checkpoint"]')
    .getByRole('button', { name: new RegExp(`${name}-mark`) })
    .click();
  await expect.poll(() => player.innerText(), { timeout: 30_000 }).toContain('shared-20');
  await screenshotBothThemes(guest, 'recording-share');

  // Revoked from the Recordings panel: the link opens nothing.
  await links.getByRole('button', { name: 'Revoke' }).click();
  await expect(recordings.getByRole('list', { name: 'Recording links' })).toHaveCount(0);
  await guest.reload();
  await expect(guest.getByRole('heading', { name: 'This link does not open anything' })).toBeVisible({ timeout: 30_000 });
  await ctx.close();
});
