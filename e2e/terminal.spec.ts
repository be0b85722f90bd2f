import fs from 'node:fs';
import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

const setHostShell = async (page: import('@playwright/test').Page, on: boolean) => {
  const baseURL = test.info().project.use.baseURL!;
  expect((await page.request.patch('/api/settings', { data: { consoleHostShell: on }, headers: { origin: baseURL } })).ok()).toBeTruthy();
};

/** Signed in, the host shell turned on and open (DOM renderer, so its text can be read): the console and a fresh tag. */
async function openHostShell(page: import('@playwright/test').Page) {
  await loginAsAdmin(page);
  await setHostShell(page, true);
  await ConsolePage.preferDomRenderer(page);
  await page.goto('/console');
  const con = new ConsolePage(page);
  await expect(con.status()).toHaveAttribute('data-status', 'live');
  return { con, tag: Date.now().toString(36) };
}

test.afterEach(async ({ page }) => {
  await setHostShell(page, false);
});

test('console tools: find, copy and paste with a confirmation for large pastes, OSC 52, download, font size', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const { con, tag } = await openHostShell(page);
  // The output has beta-TAG; the command line does not (the word is split), so find sees one match.
  await con.type(`printf 'alpha\\nbe%s\\ngamma\\n' ta-${tag}\n`);
  await expect.poll(() => con.text()).toContain('gamma');

  await page.getByRole('button', { name: 'Find in scrollback' }).click();
  await page.getByLabel('Find in console').fill(`beta-${tag}`);
  await expect(page.getByTestId('search-results')).toHaveText('1 of 1');
  await page.getByLabel('Find in console').fill(`no-such-${tag}`);
  await expect(page.getByTestId('search-results')).toHaveText('no matches');
  await page.getByLabel('Find in console').press('Escape');

  // Copy: select everything from the right-click menu, then Ctrl+Shift+C.
  await page.getByTestId('terminal').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Select all' }).click();
  await page.getByTestId('terminal').press('Control+Shift+C');
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toContain(`beta-${tag}`);

  // Paste a one-liner with Ctrl+Shift+V: no question.
  await page.evaluate((t) => navigator.clipboard.writeText(`echo pasted-${t}-$((40+2))`), tag);
  await page.getByTestId('terminal').click();
  await page.keyboard.press('Control+Shift+V');
  // The clipboard is read asynchronously: Enter once the text is on the line.
  await expect.poll(() => con.text()).toContain(`echo pasted-${tag}-$((40+2))`);
  await page.keyboard.press('Enter');
  await expect.poll(() => con.text()).toContain(`pasted-${tag}-42`);

  // Six lines ask first; Cancel sends nothing, Paste sends them all.
  const six = Array.from({ length: 6 }, (_, i) => `echo line${i}-${tag}-$((${i}*11))`).join('\n');
  await page.evaluate((t) => navigator.clipboard.writeText(t), six);
  await page.keyboard.press('Control+Shift+V');
  const dialog = page.getByRole('alertdialog');
  await expect(dialog).toContainText('Paste 6 lines');
  await screenshotBothThemes(page, 'console-paste');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await page.getByRole('toolbar', { name: 'Console tools' }).getByRole('button', { name: 'Paste' }).click();
  await dialog.getByRole('button', { name: 'Paste' }).click();
  // Bracketed paste: bash holds the pasted lines as one edit until Enter.
  await expect.poll(() => con.text()).toContain(`echo line5-${tag}`);
  await page.keyboard.press('Enter');
  await expect.poll(() => con.text()).toContain(`line5-${tag}-55`);

  // OSC 52: a program in the console sets the clipboard.
  await page.evaluate(() => navigator.clipboard.writeText('before'));
  await con.type(`printf '\\033]52;c;%s\\a' $(printf osc52-${tag} | base64)\n`);
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(`osc52-${tag}`);

  // Download the scrollback as text.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download scrollback' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^console-.*\.txt$/);
  expect(fs.readFileSync(await download.path(), 'utf8')).toContain(`line5-${tag}-55`);

  // Font size: larger, remembered.
  await page.getByRole('button', { name: 'Larger text' }).click();
  await page.getByRole('button', { name: 'Larger text' }).click();
  expect(await page.evaluate(() => localStorage.getItem('hangar.console.fontSize'))).toBe('15');
  await page.getByRole('button', { name: 'Smaller text' }).click();
  await page.getByRole('button', { name: 'Smaller text' }).click();
});

test('pop-out keeps the session; two viewers see each other; the keyboard is taken and handed over', async ({ page, context }) => {
  const { con, tag } = await openHostShell(page);
  await con.type(`echo opener-${tag}\n`);
  await expect.poll(() => con.text()).toContain(`opener-${tag}`);

  const [popup] = await Promise.all([context.waitForEvent('page'), page.getByRole('button', { name: 'Pop out' }).click()]);
  const pop = new ConsolePage(popup);
  await expect(pop.status()).toHaveAttribute('data-status', 'live');
  // The same shell: its scrollback came along, and typing in one shows in the other.
  await expect.poll(() => pop.text()).toContain(`opener-${tag}`);
  await expect(page.getByTestId('console-presence')).toHaveAttribute('data-count', '2');
  await expect(popup.getByTestId('console-presence')).toHaveAttribute('data-count', '2');
  await pop.type(`echo from-popup-$((5*5))\n`);
  await expect.poll(() => con.text()).toContain('from-popup-25');

  // The opener takes the keyboard: the pop-out watches, its keys go nowhere.
  await page.getByRole('button', { name: 'Take keyboard' }).click();
  await expect(page.getByTestId('keyboard-holder')).toContainText('You have the keyboard');
  await expect(popup.getByTestId('keyboard-holder')).toContainText('admin has the keyboard');
  await screenshotBothThemes(page, 'console-presence');
  await pop.type(`echo blocked-${tag}\n`);
  await con.type(`echo still-mine-$((6*6))\n`);
  await expect.poll(() => con.text()).toContain('still-mine-36');
  // Handed to the pop-out: now only it types.
  await page.getByRole('button', { name: 'Hand over…' }).click();
  await page.getByRole('menuitem', { name: 'admin' }).click();
  await expect(popup.getByTestId('keyboard-holder')).toContainText('You have the keyboard');
  await pop.type(`echo handed-$((7*7))\n`);
  await expect.poll(() => con.text()).toContain('handed-49');
  expect(await con.text()).not.toContain(`blocked-${tag}`);

  // Closing the pop-out detaches it; the session and the opener carry on, keyboard free.
  await popup.close();
  await expect(page.getByTestId('console-presence')).toHaveAttribute('data-count', '1');
  await expect(page.getByTestId('keyboard-holder')).toHaveCount(0);
  await con.type(`echo after-close-$((8*8))\n`);
  await expect.poll(() => con.text()).toContain('after-close-64');
});

test('a machine records its console; the recording is replayed in the browser with a scrubber and downloaded', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  await ConsolePage.preferDomRenderer(page);
  const baseURL = test.info().project.use.baseURL!;
  const name = randomName('rec');
  const create = await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 128, start: false }, headers: { origin: baseURL } });
  expect(create.status()).toBe(202);
  await expect.poll(async () => (await (await page.request.get(`/api/machines/${name}`)).json()).state, { timeout: 60_000 }).toBe('stopped');

  await page.goto(`/machines/${name}?tab=console`);
  const recordings = page.getByRole('region', { name: 'Recordings' });
  await recordings.getByRole('checkbox', { name: 'Record console sessions' }).check();
  await expect(recordings.getByRole('checkbox', { name: 'Record console sessions' })).toBeChecked();
  await page.getByRole('button', { name: 'Start' }).click();
  const con = new ConsolePage(page);
  await expect(con.status()).toHaveAttribute('data-status', 'live', { timeout: 60_000 });
  await expect(page.getByText('● REC')).toBeVisible();
  await expect.poll(() => con.text(), { timeout: 60_000 }).toContain('hangar-ready');
  await con.type('echo replay-$((9*9))-me\n');
  await expect.poll(() => con.text()).toContain('replay-81-me');

  // Stop: the session ends and its recording is complete.
  const stop = await page.request.post(`/api/machines/${name}/stop`, { data: { force: true }, headers: { origin: baseURL } });
  expect(stop.status()).toBe(202);
  await expect.poll(async () => (await (await page.request.get(`/api/machines/${name}`)).json()).state, { timeout: 60_000 }).toBe('stopped');
  await expect(recordings.getByTestId('recording')).toHaveCount(1, { timeout: 20_000 });
  await expect(recordings.getByText('recording', { exact: true })).toHaveCount(0, { timeout: 20_000 });
  await recordings.getByRole('button', { name: 'Play' }).click();
  const player = recordings.getByTestId('recording-player');
  await expect(player.locator('.ap-player')).toBeVisible();
  await expect.poll(() => player.innerText(), { timeout: 30_000 }).toContain('replay-81-me');
  await player.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'recording');
  const href = await recordings.getByRole('link', { name: 'Download' }).getAttribute('href');
  const file = await page.request.get(href!);
  expect(file.headers()['content-disposition']).toContain('.cast');
  expect(JSON.parse((await file.text()).split('\n')[0])).toMatchObject({ version: 2 });

  const destroy = await page.request.delete(`/api/machines/${name}`, { headers: { origin: baseURL } });
  expect(destroy.status()).toBe(202);
});

test('workspace: two consoles side by side, the layout kept across reloads, broadcast typing to both', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  await ConsolePage.preferDomRenderer(page);
  const baseURL = test.info().project.use.baseURL!;
  const names = [randomName('ws'), randomName('ws')];
  for (const name of names) {
    const res = await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 128 }, headers: { origin: baseURL } });
    expect(res.status()).toBe(202);
  }
  for (const name of names)
    await expect.poll(async () => (await (await page.request.get(`/api/machines/${name}`)).json()).state, { timeout: 120_000 }).toBe('running');

  await page.goto('/workspace');
  await expect(page.getByRole('heading', { name: 'No consoles here yet' })).toBeVisible();
  for (const name of names) {
    await page.getByLabel('Console to add').selectOption({ label: `${name} · serial` });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
  }
  const panes = page.getByTestId('workspace-pane');
  await expect(panes).toHaveCount(2);
  await page.getByLabel('Columns').selectOption('2');
  const paneText = (i: number) => async () => (await panes.nth(i).locator('.xterm-rows').innerText()).replace(/\u00a0/g, ' ');
  for (const i of [0, 1]) await expect(panes.nth(i).getByTestId('console-status')).toHaveAttribute('data-status', 'live');

  // The layout is the user's: a reload (or another browser) shows the same grid.
  await page.reload();
  await expect(panes).toHaveCount(2);
  await expect(panes.nth(0)).toHaveAttribute('aria-label', `${names[0]} serial`);
  await expect(page.getByLabel('Columns')).toHaveValue('2');
  // Reorder: the second first.
  await page.getByRole('button', { name: `Move ${names[1]} serial earlier` }).click();
  await expect(panes.nth(0)).toHaveAttribute('aria-label', `${names[1]} serial`);

  // Broadcast to both: typed once, run in each.
  for (const i of [0, 1]) await panes.nth(i).getByRole('checkbox', { name: 'Broadcast' }).check();
  await expect(page.getByTestId('broadcast-banner')).toContainText('2 marked consoles');
  await panes.nth(0).getByTestId('terminal').click();
  await page.keyboard.type('echo bc-$((3*3))-both\n');
  for (const i of [0, 1]) await expect.poll(paneText(i), { timeout: 20_000 }).toContain('bc-9-both');
  await screenshotBothThemes(page, 'workspace');
  // Unmarked: typing stays in its own console.
  await panes.nth(1).getByRole('checkbox', { name: 'Broadcast' }).uncheck();
  await panes.nth(0).getByTestId('terminal').click();
  await page.keyboard.type('echo solo-$((4*4))\n');
  await expect.poll(paneText(0)).toContain('solo-16');
  expect(await paneText(1)()).not.toContain('solo-16');

  for (const name of names) await page.getByRole('button', { name: `Remove ${name} serial` }).click();
  await expect(panes).toHaveCount(0);
  for (const name of names) expect((await page.request.delete(`/api/machines/${name}`, { headers: { origin: baseURL } })).status()).toBe(202);
});
