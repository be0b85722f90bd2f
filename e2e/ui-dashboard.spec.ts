import type { APIRequestContext, Page } from '@playwright/test';
import { axeProblems, ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, setTheme, test } from './fixtures';

// Named to run after images.spec.ts (files run in name order): that test starts from an empty image list.

/** Two running busybox machines with tags, made through the API; the tests share them. */
const names = { a: randomName('dash'), b: randomName('dash') };
const tagA = `t-${names.a.slice(-6)}`;

async function machinesRunning(request: APIRequestContext) {
  for (const n of Object.values(names)) {
    await expect.poll(async () => (await (await request.get(`/api/machines/${n}`)).json()).state, { timeout: 120_000 }).toBe('running');
  }
}

test.describe.serial('dashboard', () => {
  test.beforeAll(async ({ browser }) => {
    test.setTimeout(300_000);
    const page = await (await browser.newContext()).newPage();
    await loginAsAdmin(page);
    await ensureBusyboxImage(page);
    const origin = test.info().project.use.baseURL!;
    for (const [k, n] of Object.entries(names)) {
      const res = await page.request.post('/api/machines', {
        data: { name: n, image: 'busybox', memoryMib: 128, tags: k === 'a' ? [tagA, 'dash'] : ['dash'] },
        headers: { origin },
      });
      expect(res.status()).toBe(202);
    }
    await machinesRunning(page.request);
    await page.context().close();
  });

  test.afterAll(async ({ browser }) => {
    const page = await (await browser.newContext()).newPage();
    await loginAsAdmin(page);
    const origin = test.info().project.use.baseURL!;
    for (const n of Object.values(names)) await page.request.delete(`/api/machines/${n}`, { headers: { origin } });
    for (const n of Object.values(names)) await expect.poll(async () => (await page.request.get(`/api/machines/${n}`)).status(), { timeout: 60_000 }).toBe(404);
    await page.context().close();
  });

  test('overview: host capacity and use, machines by state, recent jobs, capabilities', async ({ page }) => {
    await loginAsAdmin(page);
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Overview', exact: true })).toBeVisible();
    await expect(page.getByRole('region', { name: 'CPU' }).getByText(/\d+ CPUs · load/)).toBeVisible();
    await expect(page.getByRole('meter', { name: /^Host memory in use/ })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Disk' }).getByText(/free on/)).toBeVisible();
    const byState = page.getByRole('list', { name: 'Machines by state' });
    await expect(byState.getByRole('link', { name: /running/ })).toContainText(/[2-9]|\d\d/);
    await expect(page.getByRole('region', { name: 'Recent jobs' }).getByTestId('job-row').first()).toBeVisible();
    await expect(page.getByRole('region', { name: 'Host capabilities' }).locator('[data-capability="qemu"]')).toBeVisible({ timeout: 30_000 });
    // The host CPU is sampled live while the page is open.
    await expect(page.getByRole('img', { name: /^Host CPU \d/ })).toBeVisible({ timeout: 15_000 });
    await screenshotBothThemes(page, 'overview');
    await byState.getByRole('link', { name: /running/ }).click();
    await expect(page).toHaveURL(/\/machines\?state=running$/);
  });

  test('machines list: search, filters in the URL, tag chips, sort, live sparklines, bulk pause and resume with a confirmation', async ({ page }) => {
    await loginAsAdmin(page);
    await page.goto('/machines');
    const rows = page.getByTestId('machine-row');
    const row = (n: string) => page.locator(`[data-testid="machine-row"][data-machine="${n}"]`);
    await expect(row(names.a)).toBeVisible();
    // Figures arrive every 2 s: each running row grows CPU and memory sparklines.
    await expect(row(names.a).getByRole('img', { name: /^CPU \d/ })).toBeVisible({ timeout: 15_000 });
    await expect(row(names.a).getByRole('img', { name: /^Memory \d/ })).toBeVisible();

    await page.getByRole('searchbox', { name: 'Search machines' }).fill(`tag:${tagA}`);
    await expect(rows).toHaveCount(1);
    await expect(page).toHaveURL(new RegExp(`q=tag%3A${tagA}`));
    await page.reload();
    await expect(page.getByRole('searchbox', { name: 'Search machines' })).toHaveValue(`tag:${tagA}`);
    await expect(rows).toHaveCount(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect(rows).toHaveCount(2);
    await row(names.b).getByRole('button', { name: 'dash', exact: true }).click();
    await expect(page.getByRole('combobox', { name: 'Tag' })).toHaveValue('dash');
    await page.getByRole('combobox', { name: 'State' }).selectOption('stopped');
    await expect(page.getByText('No machine matches these filters.')).toBeVisible();
    await page.getByRole('combobox', { name: 'State' }).selectOption('running');
    await expect(rows).toHaveCount(2);
    await page.getByRole('button', { name: 'Name' }).click();
    await expect(page.getByRole('columnheader', { name: /Name/ })).toHaveAttribute('aria-sort', 'descending');
    const [first, second] = [names.a, names.b].sort().reverse();
    await expect(rows.nth(0)).toHaveAttribute('data-machine', first);
    await expect(rows.nth(1)).toHaveAttribute('data-machine', second);
    await screenshotBothThemes(page, 'machines-list');

    // A state filter would hide them once paused: show every state.
    await page.getByRole('combobox', { name: 'State' }).selectOption('');
    await page.getByRole('checkbox', { name: 'Select all 2 shown' }).check();
    const bar = page.getByRole('toolbar', { name: 'Selected machines' });
    await expect(bar).toContainText('2 selected');
    await bar.getByRole('button', { name: 'Pause', exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    await expect(dialog).toContainText('Pause 2 machines?');
    await expect(dialog).toContainText(names.a);
    await screenshotBothThemes(page, 'bulk-confirm');
    await dialog.getByRole('button', { name: 'Pause' }).click();
    for (const n of Object.values(names)) await expect(row(n)).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
    // Bulk Resume applies to both (still selected); Start to none (it is disabled).
    await expect(bar.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
    await bar.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Resume' }).click();
    for (const n of Object.values(names)) await expect(row(n)).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  });

  test('machine page: tabs by keyboard, live graphs, boot log, tags edited in Settings', async ({ page }) => {
    await loginAsAdmin(page);
    await page.goto(`/machines/${names.a}`);
    const overview = page.getByRole('tab', { name: 'Overview' });
    await expect(overview).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('machine-charts').getByRole('img', { name: /^Disk I\/O: read \d/ })).toBeVisible({ timeout: 15_000 });
    await overview.focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { name: 'Serial console' })).toBeFocused();
    await expect(page).toHaveURL(/\?tab=console$/);
    await page.keyboard.press('End');
    await expect(page.getByRole('tab', { name: 'Settings' })).toHaveAttribute('aria-selected', 'true');
    const tags = page.getByRole('region', { name: 'Tags' });
    await tags.getByLabel('New tags').fill('edited, more');
    await tags.getByRole('button', { name: 'Add' }).click();
    await expect(tags.getByRole('list', { name: 'Tags of this machine' })).toContainText('edited');
    await tags.getByRole('button', { name: 'Remove tag more' }).click();
    await expect(tags.getByRole('list', { name: 'Tags of this machine' })).not.toContainText('more');
    await screenshotBothThemes(page, 'machine-settings');
    await page.getByRole('tab', { name: 'Boot log' }).click();
    await expect(page.getByTestId('boot-log')).toContainText(`hangar-ready ${names.a}`);
    await screenshotBothThemes(page, 'machine-log');
  });

  test('command palette (Ctrl+K) and keyboard shortcuts (?, g m, /)', async ({ page }) => {
    await loginAsAdmin(page);
    await page.goto('/');
    await expect(page.getByRole('region', { name: 'Recent jobs' }).getByTestId('job-row').first()).toBeVisible();
    await page.keyboard.press('Control+k');
    const palette = page.getByRole('dialog', { name: 'Command palette' });
    await expect(palette).toBeVisible();
    await page.keyboard.type(names.b);
    await expect(palette.getByRole('option').first()).toContainText(names.b);
    await screenshotBothThemes(page, 'palette');
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(new RegExp(`/machines/${names.b}$`));
    await expect(palette).toHaveCount(0);
    // Actions run from the palette too: pause, by keyboard only.
    await page.keyboard.press('Control+k');
    await page.keyboard.type(`pause ${names.b}`);
    await expect(palette.getByRole('option', { selected: true })).toContainText(`Pause ${names.b}`);
    await page.keyboard.press('Enter');
    await expect(page.getByText(`Pause ${names.b}: started`)).toBeVisible();
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
    await page.keyboard.press('Control+k');
    await page.keyboard.type(`resume ${names.b}`);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });

    await page.locator('body').press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect(help).toContainText('Command palette');
    await screenshotBothThemes(page, 'shortcuts');
    await page.keyboard.press('Escape');
    await expect(help).toHaveCount(0);
    await page.keyboard.press('g');
    await page.keyboard.press('m');
    await expect(page).toHaveURL(/\/machines$/);
    await expect(page.getByTestId('machine-row').first()).toBeVisible();
    await page.keyboard.press('/');
    await expect(page.getByRole('searchbox', { name: 'Search machines' })).toBeFocused();
  });

  test("on a phone: the overview, the list, a machine's actions and a read-only console", async ({ page, browser }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await loginAsAdmin(page);
    await page.goto('/');
    await expect(page.getByRole('region', { name: 'Memory' })).toBeVisible();
    await screenshotBothThemes(page, 'overview-mobile');
    await page.goto('/machines');
    await expect(page.locator(`[data-testid="machine-row"][data-machine="${names.a}"]`).getByRole('link', { name: names.a })).toBeInViewport();
    await screenshotBothThemes(page, 'machines-mobile');
    await page.goto(`/machines/${names.a}`);
    await expect(page.getByRole('button', { name: 'Checkpoint' })).toBeInViewport();
    // Nothing wider than the screen: no sideways scrolling of the whole page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshotBothThemes(page, 'machine-mobile');

    // A viewer on a phone watches the console.
    const origin = test.info().project.use.baseURL!;
    const user = randomName('viewer');
    expect(
      (await page.request.post('/api/users', { data: { username: user, role: 'viewer', password: 'viewer-password-1' }, headers: { origin } })).status(),
    ).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await ctx.newPage();
    const login = await phone.request.post('/api/auth/login', { data: { username: user, password: 'viewer-password-1' }, headers: { origin } });
    expect(login.ok()).toBeTruthy();
    await phone.goto(`/machines/${names.a}/console`);
    await expect(phone.getByText('read-only for you')).toBeVisible();
    await expect(phone.getByTestId('console-status')).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
    await screenshotBothThemes(phone, 'console-mobile');
    await ctx.close();
  });

  test('accessibility: no serious or critical axe findings on any page, in either theme', async ({ page, browser }) => {
    test.setTimeout(300_000);
    const origin = test.info().project.use.baseURL!;
    const problems: string[] = [];
    const check = async (p: Page, what: string, ready: () => Promise<void>) => {
      await ready();
      // Every rule in the light theme; in the dark one only those a theme can change (colours), the rest being the same page.
      for (const theme of ['light', 'dark'] as const) {
        await setTheme(p, theme);
        await p.waitForTimeout(100);
        for (const line of await axeProblems(p, theme === 'dark')) problems.push(`${what} [${theme}] ${line}`);
      }
      await setTheme(p, 'light');
    };
    // Logged out: the login page.
    const anon = await (await browser.newContext()).newPage();
    await anon.goto('/login');
    await check(anon, '/login', () => expect(anon.getByRole('button', { name: 'Log in' })).toBeVisible());
    await anon.context().close();

    await loginAsAdmin(page);
    const settings = await page.request.patch('/api/settings', { data: { consoleHostShell: true }, headers: { origin } });
    expect(settings.ok()).toBeTruthy();
    const heading = (name: string) => () => expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    const pages: [string, () => Promise<void>][] = [
      ['/', heading('Overview')],
      ['/machines', () => expect(page.getByTestId('machine-row').first()).toBeVisible()],
      ['/workspace', heading('Workspace')],
      ['/snapshots', heading('Snapshots')],
      ['/steps', heading('Steps')],
      ['/images', heading('Images')],
      ['/jobs', heading('Jobs')],
      ['/settings', heading('Settings')],
      ['/audit', heading('Audit log')],
      ['/console', () => expect(page.getByTestId('console-status')).toHaveAttribute('data-status', 'live')],
      [`/machines/${names.a}/console`, () => expect(page.getByTestId('console-status')).toHaveAttribute('data-status', 'live')],
    ];
    for (const tab of ['overview', 'console', 'snapshots', 'log', 'settings']) {
      pages.push([`/machines/${names.a}${tab === 'overview' ? '' : `?tab=${tab}`}`, () => expect(page.getByRole('tab', { selected: true })).toBeVisible()]);
    }
    for (const [url, ready] of pages) {
      await page.goto(url);
      await check(page, url, ready);
    }
    // The dialogs: the palette, the shortcuts, a confirmation.
    await page.goto('/machines');
    // The shortcuts listen once the page is live (hydrated): the rows come from the API after that.
    await expect(page.getByTestId('machine-row').first()).toBeVisible();
    await page.keyboard.press('Control+k');
    await check(page, 'command palette', () => expect(page.getByRole('dialog', { name: 'Command palette' })).toBeVisible());
    await page.keyboard.press('Escape');
    await page.locator('body').press('?');
    await check(page, 'shortcuts', () => expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible());
    await page.keyboard.press('Escape');
    await page.getByRole('checkbox', { name: `Select ${names.a}` }).check();
    await page.getByRole('toolbar', { name: 'Selected machines' }).getByRole('button', { name: 'Destroy' }).click();
    await check(page, 'confirmation', () => expect(page.getByRole('alertdialog')).toBeVisible());
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    // A pop-out console window.
    const id = (await (await page.request.get(`/api/machines/${names.a}`)).json()).id;
    await page.goto(`/popout?sid=axe-popout-1&title=${names.a}&machine=${id}&channel=serial`);
    await check(page, '/popout', () => expect(page.getByTestId('console-status')).toHaveAttribute('data-status', 'live'));
    await page.request.patch('/api/settings', { data: { consoleHostShell: false }, headers: { origin } });
    expect(problems).toEqual([]);
  });
});
