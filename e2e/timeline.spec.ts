import { expect, randomName, runningMachine, screenshotBothThemes, test } from './fixtures';

/**
 * The console timeline: a recorded console marks the machine's checkpoint; the player shows it
 * on its scrubber and in the list beside it, and "Restore here" puts the machine back there.
 */
let made: string | null = null;
test.afterEach(async ({ page }) => {
  if (made) await page.request.delete(`/api/machines/${made}`, { headers: { origin: test.info().project.use.baseURL! } });
  made = null;
});

test('a checkpoint is marked in the console recording, and "Restore here" restores the machine to it', async ({ page }) => {
  test.setTimeout(300_000);
  const name = randomName('tl');
  made = name;
  const { headers, con } = await runningMachine(page, { name, record: true });
  const state = async () => (await (await page.request.get(`/api/machines/${name}`)).json()) as { state: string; snapshotId: string | null };
  const exists = async (file: string) =>
    (await (await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['sh', '-c', `test -e ${file} && echo yes || echo no`] }, headers })).json())
      .stdout as string;
  await con.type('echo before-mark-$((3*3))\n');
  await expect.poll(() => con.text()).toContain('before-mark-9');

  // A checkpoint while the console is recorded, then a change after it.
  const cp = await (await page.request.post(`/api/machines/${name}/checkpoint`, { data: { label: 'mark-1' }, headers })).json();
  await expect.poll(async () => (await (await page.request.get(`/api/jobs/${cp.id}`)).json()).state, { timeout: 60_000 }).toBe('succeeded');
  const snapshotId = (await state()).snapshotId;
  await con.type('echo later > /tmp/after-mark\n');
  await expect.poll(() => exists('/tmp/after-mark')).toContain('yes');

  // The recording (still being written) shows the marker on the scrubber and in the timeline list.
  const recordings = page.getByRole('region', { name: 'Recordings' });
  await expect(recordings.getByTestId('recording')).toHaveCount(1, { timeout: 20_000 });
  await recordings.getByRole('button', { name: 'Play' }).click();
  const player = recordings.getByTestId('recording-player');
  await expect(player.locator('.ap-player')).toBeVisible();
  // The checkpoint, and the two commands typed at the prompt around it.
  await expect(player.locator('.ap-marker-container')).toHaveCount(3, { timeout: 30_000 });
  const markers = recordings.getByTestId('recording-marker');
  await expect(markers).toHaveCount(3);
  await expect(markers.nth(0)).toHaveAttribute('data-kind', 'command');
  await expect(markers.nth(0)).toContainText('echo before-mark-$((3*3))');
  const marker = markers.nth(1);
  await expect(marker).toHaveAttribute('data-kind', 'checkpoint');
  await expect(marker).toContainText('mark-1');
  await expect(markers.nth(2)).toContainText('echo later > /tmp/after-mark');
  await expect(markers.nth(0).getByRole('button', { name: 'Restore here' })).toHaveCount(0);
  // Jumping to it shows the console as it was at the checkpoint.
  await marker.getByRole('button', { name: /mark-1/ }).click();
  await expect.poll(() => player.innerText(), { timeout: 30_000 }).toContain('before-mark-9');
  await expect.poll(() => player.innerText(), { timeout: 30_000 }).not.toContain('after-mark');
  await recordings.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'recording-timeline');

  await marker.getByRole('button', { name: 'Restore here' }).click();
  await expect(page.getByText(/Restore .* to mark-1: started/)).toBeVisible();
  // The restore job (started by the button) runs to its end: stop, new layer, the saved state loaded, fix-ups.
  const restoreJob = async () =>
    ((await (await page.request.get('/api/jobs')).json()) as { items: { kind: string; title: string; state: string }[] }).items.find(
      (j) => j.kind === 'snapshot.restore' && j.title.includes(name),
    )?.state;
  await expect.poll(restoreJob, { timeout: 180_000, intervals: [1000] }).toBe('succeeded');
  expect(await state()).toMatchObject({ state: 'running', snapshotId });
  expect(await exists('/tmp/after-mark')).toContain('no');

  expect((await page.request.delete(`/api/machines/${name}`, { headers })).status()).toBe(202);
  made = null;
});
