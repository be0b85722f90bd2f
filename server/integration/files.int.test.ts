import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { cpCases } from './files-cases';
import { jobDone, serverWithBusybox, tearDown, type RunningServer } from './harness';

/**
 * `hangar cp` and the file routes on a busybox QEMU VM (through its serial agent; containers: in
 * steps-debian.int, which has a Debian image), and `hangar open`.
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

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-files-'));
  const made = await jobDone(api, await api.machines.create({ name: 'fc-vm', image: 'busybox', memoryMib: 128 }));
  expect(made.error).toBeNull();
}, 300_000);

afterAll(async () => {
  await tearDown(srv, api);
  if (home) fs.rmSync(home, { recursive: true, force: true });
}, 120_000);

describe('hangar cp with a busybox VM (its serial agent)', () => cpCases('fc-vm', () => ({ srv, token, api, home, cli })));

describe('hangar open', () => {
  it('prints the machine page (a tab when asked) and fails on an unknown machine or tab', async () => {
    const r = await cli(['open', 'fc-vm', '--tab', 'files']);
    expect(r).toMatchObject({ code: 0, stdout: `${srv.url}/machines/fc-vm?tab=files\n` });
    expect(await cli(['open', 'nope'])).toMatchObject({ code: 1, stderr: expect.stringContaining('not found') });
    expect(await cli(['open', 'fc-vm', '--tab', 'bogus'])).toMatchObject({ code: 2 });
  });
});

describe('the SDK (sdk/)', () => {
  it('runs its example against this server: a chain built through the typed client, a command run in the machine, removed', async () => {
    const r = await run([process.execPath, 'node_modules/tsx/dist/cli.mjs', 'sdk/examples/hello.ts'], {
      timeoutMs: 180_000,
      env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token, HANGAR_EXAMPLE_BASE: 'busybox' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [name, said] = r.stdout.trim().split(': ');
    expect(said).toBe('hello from the sdk');
    // The example destroys its machine; the step it ran is cached for the next run.
    expect((await api.machines.list()).items.map((m) => m.name)).not.toContain(name);
    expect((await api.steps.nodes()).items.some((n) => n.step === 'file' && n.args.path === '/etc/motd')).toBe(true);
  }, 200_000);
});
