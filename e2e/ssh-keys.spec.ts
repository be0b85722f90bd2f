import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { axeProblems, expect, loginAsAdmin, randomName, screenshotBothThemes, test } from './fixtures';

test('you add an SSH key in Settings: its type and fingerprint are listed, a malformed one is refused, and it can be removed', async ({ page }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-ssh-'));
  try {
    const file = path.join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me@laptop', '-f', file]);
    const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim();
    const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1];
    const name = randomName('laptop');

    await loginAsAdmin(page);
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'SSH keys' });
    const form = section.getByRole('form', { name: 'Add an SSH key' });
    await form.getByLabel(/Public key/).fill('ssh-ed25519 AAAAnot-a-key');
    await form.getByRole('button', { name: 'Add key' }).click();
    await expect(section.getByRole('alert')).toContainText('Malformed ssh-ed25519 key');

    await form.getByLabel('Name').fill(name);
    await form.getByLabel(/Public key/).fill(pub);
    await form.getByRole('button', { name: 'Add key' }).click();
    const row = section.getByRole('listitem').filter({ hasText: name });
    await expect(row).toContainText('ssh-ed25519');
    await expect(row).toContainText(fp);
    await expect(section.getByRole('alert')).toHaveCount(0);

    // The same key again: a clear conflict, not a second row.
    await form.getByLabel(/Public key/).fill(pub);
    await form.getByRole('button', { name: 'Add key' }).click();
    await expect(section.getByRole('alert')).toContainText('You added this key already');
    await expect(section.getByRole('listitem').filter({ hasText: fp })).toHaveCount(1);
    // Typing again clears the message.
    await form.getByLabel(/Public key/).fill('');
    await expect(section.getByRole('alert')).toHaveCount(0);
    // The pointer off the button it clicked (its hover colour is not the one checked for contrast).
    await page.mouse.move(0, 0);
    expect(await axeProblems(page)).toEqual([]);
    await expect(page.getByText(/^Added /)).toHaveCount(0, { timeout: 10_000 });
    await section.evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await screenshotBothThemes(page, 'settings-ssh-keys');

    await row.getByRole('button', { name: `Remove ${name}` }).click();
    await expect(section.getByRole('listitem').filter({ hasText: name })).toHaveCount(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
