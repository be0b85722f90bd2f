import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { jobDone, serverWithBusybox, tearDown, type RunningServer } from './harness';

/**
 * `hangar cp` and the file routes on real machines: a busybox QEMU VM (through its serial agent)
 * and an nspawn container (nsenter), directories both ways with their modes, and the bad input:
 * a member outside the destination, a missing path, a relative path, a full guest disk.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
let home: string;

const cli = (args: string[]) =>
  run([process.execPath, 'dist/cli.js', ...args], {
    timeoutMs: 120_000,
    cwd: process.cwd(),
    env: { XDG_CONFIG_HOME: home, HANGAR_URL: srv.url, HANGAR_TOKEN: token, HANGAR_NO_BROWSER: '1' },
  });
const sh = async (name: string, script: string) => {
  const r = await api.machines.exec(name, ['sh', '-c', script], 60);
  return r.stdout.trim();
};
const modeOf = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-files-'));
  const made = await Promise.all([
    jobDone(api, await api.machines.create({ name: 'fc-vm', image: 'busybox', memoryMib: 128 })),
    jobDone(api, await api.machines.create({ name: 'fc-ct', image: 'busybox', driver: 'nspawn' })),
  ]);
  for (const j of made) expect(j.error).toBeNull();
}, 300_000);

afterAll(async () => {
  await tearDown(srv, api);
  if (home) fs.rmSync(home, { recursive: true, force: true });
}, 120_000);

describe.each(['fc-vm', 'fc-ct'])('hangar cp with %s', (name) => {
  it('copies a directory in and back out with its modes, and a file to a new name', async () => {
    const src = path.join(home, `${name}-src`);
    fs.mkdirSync(path.join(src, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(src, 'empty'));
    fs.writeFileSync(path.join(src, 'a.txt'), 'hello\n', { mode: 0o640 });
    fs.writeFileSync(path.join(src, 'bin', 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
    const blob = randomBytes(150_000);
    fs.writeFileSync(path.join(src, 'blob'), blob);
    fs.chmodSync(path.join(src, 'a.txt'), 0o640);

    const up = await cli(['cp', src, `${name}:/tmp/`]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`to ${name}:/tmp/${name}-src`);
    expect(await sh(name, `cd /tmp/${name}-src && ls -ld a.txt bin/run.sh empty | cut -c1-10 && ./bin/run.sh && wc -c < blob`)).toBe(
      ['-rw-r-----', '-rwxr-xr-x', 'drwxr-xr-x', 'ran', '150000'].join('\n'),
    );

    const back = path.join(home, `${name}-back`);
    const down = await cli(['cp', `${name}:/tmp/${name}-src`, back]);
    expect(down.stderr).toBe('');
    expect(down.code).toBe(0);
    expect(fs.readFileSync(path.join(back, 'blob')).equals(blob)).toBe(true);
    expect(fs.readFileSync(path.join(back, 'a.txt'), 'utf8')).toBe('hello\n');
    expect([modeOf(path.join(back, 'a.txt')), modeOf(path.join(back, 'bin', 'run.sh'))]).toEqual(['640', '755']);
    expect(fs.statSync(path.join(back, 'empty')).isDirectory()).toBe(true);
    // No scratch directory is left beside it.
    expect(fs.readdirSync(home).filter((f) => f.startsWith('.hangar-cp-'))).toEqual([]);

    const renamed = await cli(['cp', path.join(src, 'a.txt'), `${name}:/tmp/renamed.txt`]);
    expect(renamed.code).toBe(0);
    expect(await sh(name, 'cat /tmp/renamed.txt')).toBe('hello');
    const into = await cli(['cp', `${name}:/tmp/renamed.txt`, home]);
    expect(into.code).toBe(0);
    expect(fs.readFileSync(path.join(home, 'renamed.txt'), 'utf8')).toBe('hello\n');
  }, 180_000);

  it('answers bad input clearly: a missing path, a relative path, ../ members, a full disk', async () => {
    const missing = await cli(['cp', `${name}:/no/such/thing`, home]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/no/such/thing in ' + name + ' not found');
    const noDir = await cli(['cp', path.join(home, 'renamed.txt'), `${name}:/no/such/dir/x`]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('not found');

    const rel = await fetch(`${srv.url}/api/machines/${name}/files?path=etc/passwd`, { headers: { authorization: `Bearer ${token}` } });
    expect(rel.status).toBe(400);
    expect(await rel.json()).toMatchObject({ error: { code: 'validation_failed' } });

    fs.writeFileSync(path.join(home, 'evil'), 'x');
    const evil = execFileSync('tar', ['-c', '-C', home, '--transform=s,^evil,../../evil-escaped,', 'evil']);
    const put = await fetch(`${srv.url}/api/machines/${name}/files/archive?path=/tmp`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' },
      body: evil,
    });
    expect(put.status).toBe(400);
    expect((await put.json()).error.message).toMatch(/outside the destination/);
    expect(await sh(name, 'ls /evil-escaped /tmp/evil-escaped 2>&1 | wc -l; ls / | grep -c evil')).toBe('2\n0');

    await sh(name, 'mkdir -p /tmp/small && mount -t tmpfs -o size=64k tmpfs /tmp/small && echo ok');
    const full = await fetch(`${srv.url}/api/machines/${name}/files/content?path=/tmp/small/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: randomBytes(400_000),
    });
    expect(full.status).toBe(409);
    expect((await full.json()).error.message).toMatch(/disk is full/);
    expect(await sh(name, 'ls -a /tmp/small | wc -l')).toBe('2');
    // And the machine still answers.
    expect(await sh(name, 'umount /tmp/small; echo fine')).toBe('fine');
  }, 120_000);
});

describe('hangar open', () => {
  it('prints the machine page (a tab when asked) and fails on an unknown machine or tab', async () => {
    const r = await cli(['open', 'fc-ct', '--tab', 'files']);
    expect(r).toMatchObject({ code: 0, stdout: `${srv.url}/machines/fc-ct?tab=files\n` });
    expect(await cli(['open', 'nope'])).toMatchObject({ code: 1, stderr: expect.stringContaining('not found') });
    expect(await cli(['open', 'fc-ct', '--tab', 'bogus'])).toMatchObject({ code: 2 });
  });
});
