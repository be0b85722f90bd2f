import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config';
import { isolateSpecFile, noteTestEnded } from './isolation';
import { ConsolePage } from './pages/console-page';

export { expect };

/** Log in through the API (fast) so each test starts signed in; the login page has its own test. */
export async function loginAsAdmin(page: Page): Promise<void> {
  const baseURL = test.info().project.use.baseURL!;
  const res = await page.request.post('/api/auth/login', { data: { username: 'admin', password: E2E_ADMIN_PASSWORD }, headers: { origin: baseURL } });
  expect(res.ok()).toBeTruthy();
}

/** Screenshots for the README, in both themes. */
export async function screenshotBothThemes(page: Page, name: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(page, theme);
    await page.waitForTimeout(150);
    await page.screenshot({ path: `docs/screenshots/${name}-${theme}.png` });
  }
  await setTheme(page, 'light');
}

export const randomName = (prefix = 'e2e') => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

export const test = base.extend<{ isolation: void }>({
  // Each spec file starts with no machines or snapshots left by the files before it (see isolation.ts).
  isolation: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a function needs from its first parameter
    async ({}, use, info) => {
      await isolateSpecFile(info);
      await use();
      noteTestEnded(info);
    },
    { auto: true },
  ],
});
export { E2E_ADMIN_PASSWORD };

/** An image, built through the API if an earlier test has not built it (debian-12 takes a minute or two). */
export async function ensureImage(page: Page, kind: 'busybox' | 'debian-12'): Promise<void> {
  const baseURL = test.info().project.use.baseURL!;
  const list = await (await page.request.get('/api/images')).json();
  if (list.items.some((i: { name: string; state: string }) => i.name === kind && i.state === 'ready')) return;
  const res = await page.request.post('/api/images', { data: { kind }, headers: { origin: baseURL } });
  expect(res.status()).toBe(202);
  const job = await res.json();
  await expect
    .poll(async () => (await (await page.request.get(`/api/jobs/${job.id}`)).json()).state, { timeout: 600_000, intervals: [1000] })
    .toBe('succeeded');
}

/** The busybox image, built through the API if an earlier test has not built it. */
export const ensureBusyboxImage = (page: Page) => ensureImage(page, 'busybox');

/**
 * Signed in, with a busybox machine `name` running and its page open (at `query`, e.g. `?tab=console`).
 * `record`: made stopped, its console recorded from the start, started from the Console tab (DOM
 * renderer, so its text can be read) and waited for until its shell prompts.
 */
export async function runningMachine(
  page: Page,
  o: { name: string; record?: boolean; memoryMib?: number; query?: string },
): Promise<{ headers: { origin: string }; baseURL: string; con: ConsolePage }> {
  const baseURL = test.info().project.use.baseURL!;
  const headers = { origin: baseURL };
  const { name, record = false } = o;
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  const con = new ConsolePage(page);
  const body = { name, image: 'busybox', memoryMib: o.memoryMib ?? 128, ...(record ? { start: false } : {}) };
  expect((await page.request.post('/api/machines', { data: body, headers })).status()).toBe(202);
  if (!record) {
    await page.goto(`/machines/${name}${o.query ?? ''}`);
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
    return { headers, baseURL, con };
  }
  await ConsolePage.preferDomRenderer(page);
  const state = async () => ((await (await page.request.get(`/api/machines/${name}`)).json()) as { state: string }).state;
  await expect.poll(state, { timeout: 60_000 }).toBe('stopped');
  expect((await page.request.patch(`/api/machines/${name}`, { data: { recordConsole: true }, headers })).ok()).toBeTruthy();
  await page.goto(`/machines/${name}?tab=console`);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(con.status()).toHaveAttribute('data-status', 'live', { timeout: 60_000 });
  await expect.poll(() => con.text(), { timeout: 60_000 }).toContain('hangar-ready');
  // At the shell's prompt: commands typed from here on are marked in the recording.
  await expect.poll(() => con.text(), { timeout: 30_000 }).toContain(':/#');
  return { headers, baseURL, con };
}

/**
 * axe's serious and critical findings on the page as it is now (WCAG 2 A and AA rules), one line each;
 * `colorsOnly`: only the rules a theme can change (contrast, links told apart by colour).
 */
export async function axeProblems(page: Page, colorsOnly = false): Promise<string[]> {
  const axe = new AxeBuilder({ page });
  const r = await (colorsOnly ? axe.withRules(['color-contrast', 'link-in-text-block']) : axe.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.slice(0, 3).map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} ${n.failureSummary?.split('\n').slice(1, 2).join('') ?? ''}`));
}

export const setTheme = (page: Page, theme: 'light' | 'dark') =>
  page.evaluate((t) => {
    localStorage.setItem('hangar.theme', t);
    document.documentElement.classList.toggle('dark', t === 'dark');
  }, theme);
