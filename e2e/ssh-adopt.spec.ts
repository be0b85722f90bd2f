import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureImage, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

// Named to run after images.spec.ts (files run in name order): that test starts from an empty image list.

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });

test('adopt a server over SSH from the Machines page: a key it does not take is refused with the reason; the right one, read from a file, adopts it', async ({
  page,
}) => {
  test.setTimeout(900_000);
  await loginAsAdmin(page);
  await ensureImage(page, 'debian-12');
  const origin = test.info().project.use.baseURL!;
  const headers = { origin };
  const box = randomName('box');
  const name = randomName('adopted');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-keys-'));
  try {
    for (const k of ['id', 'other']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, k)]);
    // The server to adopt: an nspawn container on the NAT network with its sshd, the key `id` authorized in it.
    expect(
      (
        await page.request.post('/api/machines', { data: { name: box, image: 'debian-12', driver: 'nspawn', network: 'nat', memoryMib: 512 }, headers })
      ).status(),
    ).toBe(202);
    const exec = async (cmd: string) =>
      (await (await page.request.post(`/api/machines/${box}/exec`, { data: { argv: ['sh', '-c', cmd] }, headers })).json()) as { code?: number };
    await expect.poll(async () => (await exec('true')).code, { timeout: 180_000, intervals: [1000] }).toBe(0);
    const address = ((await (await page.request.get(`/api/machines/${box}`)).json()) as { address: string }).address;
    const pub = fs.readFileSync(path.join(tmp, 'id.pub'), 'utf8').trim();
    const setup = await exec(
      `install -d -m 700 /root/.ssh && printf '%s\\n' '${pub}' >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && ` +
        'ssh-keygen -A >/dev/null && install -d -m 755 /run/sshd && (systemctl restart ssh || /usr/sbin/sshd)',
    );
    expect(setup.code).toBe(0);
    await expect.poll(() => reachable(address, 22), { timeout: 60_000, intervals: [500] }).toBe(true);

    await page.goto('/machines');
    await page.getByRole('button', { name: 'Adopt over SSH…' }).click();
    const form = page.getByRole('form', { name: 'Adopt a machine over SSH' });
    await form.getByLabel('Name').fill(name);
    await form.getByLabel(/^SSH/).fill(`root@${address}`);
    await form.getByLabel(/^Private key \(/).fill(fs.readFileSync(path.join(tmp, 'other'), 'utf8'));
    await form.getByRole('button', { name: 'Adopt', exact: true }).click();
    await expect(form.getByRole('alert')).toContainText(/not authorized there/, { timeout: 30_000 });
    await screenshotBothThemes(page, 'adopt-refused');
    expect((await page.request.get(`/api/machines/${name}`)).status()).toBe(404);

    await form.getByLabel('Private key file').setInputFiles(path.join(tmp, 'id'));
    await expect(form.getByLabel(/^Private key \(/)).toHaveValue(/BEGIN OPENSSH PRIVATE KEY/);
    await form.getByRole('button', { name: 'Adopt', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/machines/${name}$`), { timeout: 30_000 });
    await expect(page.getByTestId('machine-state')).toHaveAttribute('data-state', 'running');
    await expect(page.getByText('none: adopted, not made by Hangar')).toBeVisible();
    await expect(page.getByText(/^ssh · adopted, not made by Hangar$/)).toBeVisible();
    const ran = await page.request.post(`/api/machines/${name}/exec`, { data: { argv: ['hostname'] }, headers });
    expect(((await ran.json()) as { stdout: string }).stdout.trim()).toBe(box);
    await screenshotBothThemes(page, 'adopted');
  } finally {
    for (const m of [name, box]) await page.request.delete(`/api/machines/${m}`, { headers });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
