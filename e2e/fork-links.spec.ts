import { axeProblems, expect, randomName, runningMachine, screenshotBothThemes, setTheme, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

const title = 'a fork link made on the machine page: a second browser without an account gets its own fork and types in its console; the owner sees it';
test(title, async ({ page, browser }) => {
  test.setTimeout(300_000);
  const name = randomName('fkl');
  const { baseURL } = await runningMachine(page, { name });

  // "Fork link" on the machine page: from now (a live checkpoint first).
  await page.getByRole('button', { name: 'Fork link' }).click();
  const dialog = page.getByRole('dialog', { name: 'Fork link' });
  const form = dialog.getByRole('form', { name: 'New fork link' });
  await form.getByLabel('At most this many forks').fill('3');
  await form.getByLabel('Each fork lives').selectOption('7200');
  await form.getByLabel('Label (optional)').fill('workshop');
  await screenshotBothThemes(page, 'fork-link-dialog');
  await form.getByRole('button', { name: 'Create link' }).click();
  const link = (await dialog.getByTestId('fork-link-url').textContent({ timeout: 60_000 }))!;
  expect(link).toMatch(new RegExp(`^${baseURL}/f/hgf_`));
  await dialog.getByRole('button', { name: 'Done' }).click();

  // Someone else: a fresh browser, no account.
  const ctx = await browser.newContext();
  const guestPage = await ctx.newPage();
  await ConsolePage.preferDomRenderer(guestPage);
  await guestPage.goto(link);
  await expect(guestPage.getByText('This is your own fork of "workshop"')).toBeVisible({ timeout: 60_000 });
  await expect(guestPage.getByText('you can type here')).toBeVisible();
  const guest = new ConsolePage(guestPage);
  await expect(guest.status()).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
  await guest.type('echo in-my-fork-$((6*7))\n');
  await expect.poll(() => guest.text(), { timeout: 20_000 }).toContain('in-my-fork-42');
  const forkName = (await guestPage.getByRole('heading', { level: 1 }).textContent())!;
  expect(forkName).toMatch(new RegExp(`^${name}-link-`));
  await screenshotBothThemes(guestPage, 'fork-link-console');
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(guestPage, theme);
    expect(await axeProblems(guestPage), `the fork link page, ${theme}`).toEqual([]);
  }
  // The same browser again: the same fork.
  await guestPage.reload();
  await expect(guestPage.getByText('Welcome back: this is your own fork')).toBeVisible({ timeout: 30_000 });
  await expect(guestPage.getByRole('heading', { level: 1 })).toHaveText(forkName);

  // The owner sees the fork on the machine's Settings tab, and revokes the link (destroying it).
  await page.getByRole('tab', { name: 'Settings' }).click();
  const panel = page.getByRole('region', { name: 'Fork links' });
  await expect(panel.getByTestId('fork-link-fork').first()).toHaveAttribute('data-state', 'running');
  await expect(panel.getByTestId('fork-link-fork').first()).toContainText(forkName);
  await panel.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshotBothThemes(page, 'fork-links-panel');
  await panel.getByRole('button', { name: 'Revoke and destroy forks' }).click();
  await expect(guest.status()).toHaveAttribute('data-status', 'error', { timeout: 20_000 });
  await guestPage.reload();
  await expect(guestPage.getByRole('heading', { name: 'This link was revoked' })).toBeVisible();
  await ctx.close();
});

test.afterEach(async ({ page }) => {
  const baseURL = test.info().project.use.baseURL!;
  for (const m of (await (await page.request.get('/api/machines')).json()).items)
    await page.request.delete(`/api/machines/${m.id}`, { headers: { origin: baseURL } });
  await expect.poll(async () => (await (await page.request.get('/api/machines')).json()).items.length, { timeout: 60_000 }).toBe(0);
});
