import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { APIRequestContext } from '@playwright/test';
import { busyboxRoot, push, writeLayout, type RegistryInfo } from '../server/integration/oci-registry';
import { e2eRegistry } from './global-setup';
import { expect, loginAsAdmin, screenshotBothThemes, test } from './fixtures';

/** A probe over two images (postroj's selftest) shown as its matrix on the Jobs page: a busybox OCI image from a local registry, and one that is not there. */
let reg: RegistryInfo;
let dir: string;

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-probe-'));
  reg = e2eRegistry();
  const layout = path.join(dir, 'layout');
  writeLayout(layout, [{ tag: 'tool', layers: [busyboxRoot(path.join(dir, 'root'))], config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] } }]);
  push(layout, 'tool', reg, 'team/tool:1');
});

test.afterAll(async () => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A job's end, polled through the API. */
async function finished(request: APIRequestContext, id: string): Promise<{ state: string; result: unknown; error: string | null }> {
  let job = { state: 'queued', result: null as unknown, error: null as string | null };
  await expect
    .poll(
      async () => {
        job = await (await request.get(`/api/jobs/${id}`)).json();
        return ['succeeded', 'failed', 'cancelled'].includes(job.state);
      },
      { timeout: 240_000 },
    )
    .toBe(true);
  return job;
}

test('a probe over several images shows its matrix (image × check) on the Jobs page', async ({ page }) => {
  test.setTimeout(300_000);
  await loginAsAdmin(page);
  const headers = { origin: test.info().project.use.baseURL! };
  expect((await page.request.put(`/api/registries/${encodeURIComponent(reg.host)}`, { data: { insecure: true }, headers })).ok()).toBeTruthy();
  const pull = await page.request.post('/api/images/pull', { data: { ref: `${reg.host}/team/tool:1` }, headers });
  expect(pull.ok(), await pull.text()).toBeTruthy();
  const pulled = await finished(page.request, (await pull.json()).id);
  const image = (pulled.result as { image: string }).image;
  const url = `http://${reg.host}/v2/`;
  const probe = await page.request.post('/api/probes', { data: { images: [image, 'nosuch-image'], packages: ['hello'], checkNetwork: url }, headers });
  expect(probe.ok(), await probe.text()).toBeTruthy();
  await finished(page.request, (await probe.json()).id);

  await page.goto('/jobs');
  const row = page.getByTestId('job-row').filter({ has: page.getByTestId('probe-matrix') });
  const matrix = row.getByRole('table', { name: 'Probe matrix' });
  await expect(matrix).toBeVisible();
  await expect(matrix.getByRole('columnheader')).toHaveText(['Image', 'package hello', `network ${url}`]);
  const ok = matrix.locator(`[data-testid="probe-matrix-row"][data-image="${image}"]`);
  await expect(ok.getByRole('cell').nth(0)).toContainText('no apt-get in this image');
  await expect(ok.getByRole('cell').nth(1)).toContainText('✓ ok');
  await expect(matrix.locator('[data-testid="probe-matrix-row"][data-image="nosuch-image"]')).toContainText('fail');
  await expect(row.getByTestId('probe-matrix')).toContainText('Failed on 0 of 2 images');
  await row.scrollIntoViewIfNeeded();
  await screenshotBothThemes(page, 'jobs-probe-matrix');
});
