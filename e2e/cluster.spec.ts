import { ADMIN_PASSWORD, client, jobDone } from '../server/integration/harness';
import { startTwoNodes, type TwoNodes } from '../server/integration/two-nodes';
import { startPostgres } from '../server/integration/postgres';
import { axeProblems, expect, screenshotBothThemes, test } from './fixtures';

/**
 * A real two-node cluster beside the e2e server: PostgreSQL (as the integration tier starts it),
 * node A with the web UI, node B joined with a token from A. B builds busybox, so a machine made
 * through A is placed on B. The pages are A's.
 */
let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
let nodes: TwoNodes | undefined;

test.beforeAll(async () => {
  test.setTimeout(400_000);
  pg = await startPostgres();
  nodes = await startTwoNodes(pg.url, { ui: true });
  const apiB = client(nodes.b.url, nodes.token);
  const built = await jobDone(apiB, await apiB.images.build({ kind: 'busybox' }), 300_000);
  expect(built.error).toBeNull();
  const made = await jobDone(nodes.api, await nodes.api.machines.create({ name: 'far-1', image: 'busybox', memoryMib: 128, start: false }), 120_000);
  expect(made.error).toBeNull();
});

test.afterAll(async () => {
  // The machines first (far-1 runs after its move): a node's stop leaves its VMs running, as a restart must.
  if (nodes)
    for (const m of (await nodes.api.machines.list().catch(() => ({ items: [] }))).items)
      await jobDone(nodes.api, await nodes.api.machines.destroy(m.name), 120_000).catch(() => undefined);
  await nodes?.stop();
  await pg?.stop();
});

test('two nodes: both on the Nodes page, the Node column in the machines list, and the Node choice in New machine', async ({ page }) => {
  const url = nodes!.a.url;
  const login = await page.request.post(`${url}/api/auth/login`, { data: { username: 'admin', password: ADMIN_PASSWORD }, headers: { origin: url } });
  expect(login.ok()).toBeTruthy();

  await page.goto(`${url}/nodes`);
  const cards = page.getByTestId('node-card');
  await expect(cards).toHaveCount(2);
  for (const card of await cards.all()) await expect(card).toHaveAttribute('data-state', 'online');
  await expect(cards.filter({ hasText: 'this node' })).toHaveCount(1);
  expect(await axeProblems(page)).toEqual([]);
  await screenshotBothThemes(page, 'nodes-cluster');

  await page.goto(`${url}/machines`);
  await expect(page.getByRole('columnheader', { name: 'Node' })).toBeVisible();
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'far-1', exact: true }) });
  await expect(row.getByRole('cell', { name: 'b', exact: true })).toBeVisible();
  // The search takes node:NAME.
  await page.getByRole('searchbox').fill('node:a');
  await expect(page.getByText('No machine matches these filters.')).toBeVisible();
  await page.getByRole('searchbox').fill('node:b');
  await expect(row).toBeVisible();
  await page.getByRole('searchbox').fill('');

  await page.getByRole('button', { name: '+ New machine' }).click();
  const node = page.getByTestId('new-machine-node');
  await expect(node).toBeVisible();
  await expect(node.locator('option')).toHaveText(['Least loaded node', 'a', 'b']);
  // Placed by load, with more memory than either node has room for: the server names each node's reason, in the form.
  await page.getByLabel('Name', { exact: true }).fill('too-big');
  await page.getByLabel('Memory (MiB)').fill('65536');
  await page.getByRole('button', { name: 'Create and start' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'No node can take this machine' })).toBeVisible();
  // The pointer off the button (its hover colour is not what the page shows).
  await page.mouse.move(0, 0);
  expect(await axeProblems(page)).toEqual([]);
  await screenshotBothThemes(page, 'machines-cluster');
});

test('Move from the UI: a running VM moves live to the other node; a refusal is shown as the server said it', async ({ page }) => {
  test.setTimeout(400_000);
  const url = nodes!.a.url;
  const api = nodes!.api;
  const login = await page.request.post(`${url}/api/auth/login`, { data: { username: 'admin', password: ADMIN_PASSWORD }, headers: { origin: url } });
  expect(login.ok()).toBeTruthy();
  expect((await jobDone(api, await api.machines.act('far-1', 'start'), 180_000)).error).toBeNull();
  // Wherever placement put it (B, which built the image, unless load said otherwise): it goes to the other one.
  const other = (await api.machines.get('far-1')).node?.name === 'a' ? 'b' : 'a';

  await page.goto(`${url}/machines/far-1`);
  const moveButton = page.getByRole('button', { name: 'Move…' });
  await expect(moveButton).toBeEnabled();
  // A draining: the server's 409, in the dialog, as it said it.
  await api.nodes.drain(other);
  await moveButton.click();
  const dialog = page.getByRole('dialog', { name: 'Move machine' });
  await expect(dialog.getByLabel('To node').locator('option')).toHaveText([new RegExp(`^${other}`)]);
  await dialog.getByRole('button', { name: 'Move', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText(`node ${other} is draining: it takes no new machines`);
  await api.nodes.undrain(other);
  await page.mouse.move(0, 0);
  expect(await axeProblems(page)).toEqual([]);
  await screenshotBothThemes(page, 'machine-move-refused');

  await dialog.getByRole('button', { name: 'Move', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(`Move far-1 to node ${other} (live): started`)).toBeVisible();
  await expect
    .poll(
      async () => {
        const m = await api.machines.get('far-1');
        return `${m.state}@${m.node?.name}`;
      },
      { timeout: 180_000 },
    )
    .toBe(`running@${other}`);
  const job = (await api.jobs.list({ limit: 50 })).items.find((j) => j.kind === 'machine.move');
  expect(job).toMatchObject({ state: 'succeeded' });
  await page.goto(`${url}/jobs`);
  await expect(page.getByText(`Move far-1 to node ${other} (live)`).first()).toBeVisible();
  await page.mouse.move(0, 0);
  await screenshotBothThemes(page, 'jobs-move');
});
