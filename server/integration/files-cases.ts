import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { RunResult } from '@/server/drivers/exec';
import type { RunningServer } from './harness';

/** What the cp cases need, read when they run (beforeAll has set it up by then). */
export interface FilesContext {
  srv: RunningServer;
  token: string;
  api: ApiClient;
  /** A scratch directory of the test's own. */
  home: string;
  cli(args: string[]): Promise<RunResult>;
}

const shIn = (api: ApiClient) => async (name: string, script: string) => (await api.machines.exec(name, ['sh', '-c', script], 60)).stdout.trim();
const modeOf = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);

/**
 * `hangar cp` and the file routes on one running machine: a directory both ways with its modes, a file renamed, and the bad
 * input (a missing path, a relative one, a ../ member, a full disk). Shared by the VM (files.int) and container (steps-debian.int) tests.
 */
export function cpCases(name: string, ctx: () => FilesContext): void {
  it('copies a directory in and back out with its modes, and a file to a new name', async () => {
    const { api, home, cli } = ctx();
    const src = path.join(home, `${name}-src`);
    fs.mkdirSync(path.join(src, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(src, 'empty'));
    fs.writeFileSync(path.join(src, 'a.txt'), 'hello\n', { mode: 0o640 });
    fs.writeFileSync(path.join(src, 'bin', 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
    const blob = randomBytes(40_000);
    fs.writeFileSync(path.join(src, 'blob'), blob);
    fs.chmodSync(path.join(src, 'a.txt'), 0o640);

    const up = await cli(['cp', src, `${name}:/tmp/`]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const sh = shIn(api);
    expect(up.stdout).toContain(`to ${name}:/tmp/${name}-src`);
    expect(await sh(name, `cd /tmp/${name}-src && ls -ld a.txt bin/run.sh empty | cut -c1-10 && ./bin/run.sh && wc -c < blob`)).toBe(
      ['-rw-r-----', '-rwxr-xr-x', 'drwxr-xr-x', 'ran', '40000'].join('\n'),
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
    const { srv, token, api, home, cli } = ctx();
    const sh = shIn(api);
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

    await sh(name, 'mkdir -p /tmp/small && mount -t tmpfs -o size=16k tmpfs /tmp/small && echo ok');
    const full = await fetch(`${srv.url}/api/machines/${name}/files/content?path=/tmp/small/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: randomBytes(60_000),
    });
    expect(full.status).toBe(409);
    expect((await full.json()).error.message).toMatch(/disk is full/);
    expect(await sh(name, 'ls -a /tmp/small | wc -l')).toBe('2');
    // And the machine still answers.
    expect(await sh(name, 'umount /tmp/small; echo fine')).toBe('fine');
  }, 120_000);
}
