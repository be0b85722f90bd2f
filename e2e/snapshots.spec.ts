import { ensureBusyboxImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';
import { ConsolePage } from './pages/console-page';

test('checkpoint, fork and restore from the machine page; the console carries on', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  await ensureBusyboxImage(page);
  await ConsolePage.preferDomRenderer(page);
  const name = randomName();
  const baseURL = test.info().project.use.baseURL!;
  const created = await page.request.post('/api/machines', { data: { name, image: 'busybox', memoryMib: 256 }, headers: { origin: baseURL } });
  expect(created.status()).toBe(202);

  await page.goto(`/machines/${name}?tab=console`);
  await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 90_000 });
  const con = new ConsolePage(page);
  await expect.poll(() => con.text(), { timeout: 20_000 }).toContain(`hangar-ready ${name}`);
  await con.type('echo saved-state > /tmp/mark\n');

  // The Checkpoint button is in the header: it works from any tab.
  await page.getByRole('button', { name: 'Checkpoint' }).click();
  await page.getByRole('tab', { name: 'Snapshots' }).click();
  const tree = page.getByTestId('snapshot-tree');
  const node = tree.locator('[data-testid="snapshot-row"]').first();
  await expect(node).toContainText('live', { timeout: 30_000 });
  // A loaded host can take a while; if it never completes, say what the checkpoint job said (the page alone shows "pending").
  await expect(node)
    .toContainText(/paused \d+ ms/, { timeout: 60_000 })
    .catch(async (err: Error) => {
      const jobs = (await (await page.request.get('/api/jobs?limit=20')).json()) as { items: { title: string; state: string; error: string | null }[] };
      const cp = jobs.items.filter((j) => /checkpoint/i.test(j.title)).map((j) => `${j.title}: ${j.state} ${j.error ?? ''}`);
      throw new Error(`${err.message}\ncheckpoint jobs: ${cp.join('; ') || 'none'}`);
    });

  // Change the guest after the snapshot, then go back: the change is gone, the shell carries on.
  await page.getByRole('tab', { name: 'Serial console' }).click();
  // The tab's console attaches anew: keys typed before it is live go nowhere (CI: "echo changed" arrived as "hanged").
  await expect(con.status()).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
  await con.type('echo changed > /tmp/mark\n');
  await expect.poll(() => con.text()).toContain('echo changed');
  await page.getByRole('tab', { name: 'Snapshots' }).click();
  await node.getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Restore' }).click();
  await expect(tree.locator('[data-testid="snapshot-row"]').filter({ hasText: 'before restore' })).toBeVisible({ timeout: 30_000 });
  // Back on the console: the session carries on, re-attached to the restored machine's serial line.
  await page.getByRole('tab', { name: 'Serial console' }).click();
  await expect.poll(() => con.text(), { timeout: 60_000 }).toContain('restored to snapshot');
  await expect(con.status()).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
  // Typing before the restore job has loaded the guest's devices would be lost: wait for it to run.
  await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  // Typed once: the replayed log's old cursor-position questions must not have typed their answers into the shell.
  await con.type('cat /tmp/mark\n');
  await expect.poll(() => con.text(), { timeout: 20_000 }).toMatch(/cat \/tmp\/mark\s+saved-state/);
  expect(await con.text()).not.toMatch(/\[\d+;\d+R/);

  await page.getByRole('tab', { name: 'Snapshots' }).click();
  await node.getByRole('button', { name: 'Fork', exact: true }).click();
  await expect(tree.getByRole('link', { name: `${name}-fork-1` })).toBeVisible({ timeout: 60_000 });
  await screenshotBothThemes(page, 'snapshots-machine');
  await page.goto('/snapshots');
  await expect(page.getByTestId('snapshot-tree')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download' }).first()).toHaveAttribute('href', /^\/api\/snapshots\/snp_\w+\/export$/);
  await page.getByRole('button', { name: 'Collect garbage' }).click();
  await expect(page.getByText(/Collected \d+ files?/)).toBeVisible({ timeout: 15_000 });
  await screenshotBothThemes(page, 'snapshots');

  // Destroy jobs must finish before the test ends, or the stopped test server leaves their qemu running.
  for (const m of [`${name}-fork-1`, name]) {
    const r = await page.request.delete(`/api/machines/${m}`, { headers: { origin: baseURL } });
    expect(r.status()).toBe(202);
  }
  for (const m of [`${name}-fork-1`, name])
    await expect.poll(async () => (await page.request.get(`/api/machines/${m}`)).status(), { timeout: 30_000 }).toBe(404);
});
