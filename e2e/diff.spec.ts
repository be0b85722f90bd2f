import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { APIRequestContext } from '@playwright/test';
import { expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

/** A busybox-static root filesystem (made here) as an nspawn image: its container changed between two checkpoints, compared on the Snapshots page. */
let dir: string;

test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-diff-'));
  const root = path.join(dir, 'root');
  for (const d of ['bin', 'etc', 'usr/bin', 'dev', 'proc', 'sys', 'tmp', 'root']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  for (const a of ['sh', 'sleep', 'rm', 'chmod', 'sync']) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.symlinkSync('../../bin/busybox', path.join(root, 'usr/bin/env'));
  fs.writeFileSync(path.join(root, 'etc/motd'), 'hello\n');
  execFileSync('tar', ['--numeric-owner', '-C', root, '-cf', path.join(dir, 'bb.tar'), '.']);
});

test.afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function jobDone(request: APIRequestContext, res: { json(): Promise<unknown> }): Promise<void> {
  const job = (await res.json()) as { id: string };
  await expect
    .poll(async () => ((await (await request.get(`/api/jobs/${job.id}`)).json()) as { state: string }).state, { timeout: 120_000, intervals: [500] })
    .toBe('succeeded');
}

test('compare two container snapshots on the Snapshots page: filter the files, read a text diff', async ({ page }) => {
  test.setTimeout(240_000);
  await loginAsAdmin(page);
  const baseURL = test.info().project.use.baseURL!;
  const headers = { origin: baseURL };
  const image = randomName('bbdiff');
  const name = randomName('ct');
  const rq = page.request;
  await jobDone(rq, await rq.post(`/api/images/rootfs?name=${image}&file=bb.tar`, { data: fs.readFileSync(path.join(dir, 'bb.tar')), headers }));
  const spec = { name, image, driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] };
  await jobDone(rq, await rq.post('/api/machines', { data: spec, headers }));
  const sh = async (script: string) => {
    const r = await rq.post(`/api/machines/${name}/exec`, { data: { argv: ['/bin/sh', '-c', script] }, headers });
    expect(((await r.json()) as { code: number }).code).toBe(0);
  };
  await sh('printf "one\\nkeep\\n" > /etc/notes.txt; echo x > /root/x; sync');
  await jobDone(rq, await rq.post(`/api/machines/${name}/checkpoint`, { data: { label: `${name} before` }, headers }));
  await sh('printf "one\\ntwo\\nkeep\\n" > /etc/notes.txt; rm /etc/motd; chmod 600 /root/x; echo new > /root/new.txt; sync');
  await jobDone(rq, await rq.post(`/api/machines/${name}/checkpoint`, { data: { label: `${name} after` }, headers }));

  await page.goto('/snapshots');
  const row = (label: string) => page.locator(`[data-testid="snapshot-row"][data-label="${label}"]`);
  await row(`${name} before`).getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByText('Base picked')).toBeVisible();
  await row(`${name} after`).getByRole('button', { name: 'Compare with base' }).click();
  const panel = page.getByRole('region', { name: 'Snapshot comparison' });
  const files = panel.getByTestId('diff-files');
  await expect(panel).toContainText('1 added · 1 removed · 2 changed');
  await expect(files).toContainText('/etc/motd');
  await expect(files).toContainText('/root/new.txt');
  await panel.getByRole('searchbox', { name: 'Filter paths' }).fill('/etc');
  await expect(files).not.toContainText('/root/new.txt');
  await panel.getByRole('searchbox', { name: 'Filter paths' }).fill('');
  await panel.getByRole('checkbox', { name: /removed/ }).uncheck();
  await expect(files).not.toContainText('/etc/motd');
  await panel.getByRole('checkbox', { name: /removed/ }).check();
  await files.getByRole('button', { name: /\/etc\/notes\.txt/ }).click();
  await expect(panel.getByTestId('text-diff')).toContainText('+two');
  await panel.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'snapshots-compare');

  // The machine page: what changed since its last checkpoint.
  await sh('echo later > /root/later.txt; sync');
  await page.goto(`/machines/${name}?tab=snapshots`);
  const since = page.getByRole('region', { name: 'What changed since' });
  await since.getByRole('button', { name: 'Show changes' }).click();
  await expect(since.getByTestId('diff-files')).toContainText('/root/later.txt');
  await expect(since).toContainText(`Since “${name} after”: 1 added`);
  await since
    .getByTestId('diff-files')
    .getByRole('button', { name: /later\.txt/ })
    .click();
  await expect(since.getByTestId('text-diff')).toContainText('+later');
  await since.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'machine-changed-since');

  // Leave nothing for later specs (the Images page spec starts from no image): the machine, its snapshots, the image.
  await jobDone(rq, await rq.delete(`/api/machines/${name}`, { headers }));
  const snaps = ((await (await rq.get('/api/snapshots')).json()) as { items: { id: string; image: string; parentId: string | null }[] }).items;
  for (const s of snaps.filter((x) => x.image === image && !x.parentId)) await rq.delete(`/api/snapshots/${s.id}?cascade=true`, { headers });
  const img = ((await (await rq.get('/api/images')).json()) as { items: { id: string; name: string }[] }).items.find((i) => i.name === image);
  await expect.poll(async () => (await rq.delete(`/api/images/${img!.id}`, { headers })).status(), { timeout: 60_000, intervals: [1000] }).toBe(200);
});
