import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Socket } from 'socket.io-client';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, serialConsole, startServer, tearDown, TEST_CACHE, type RunningServer } from './harness';

/**
 * debian-13 (trixie) from the same recipe as debian-12, then its root filesystem tarred and
 * imported as a tarball image and booted as an nspawn OS container. A debootstrap takes minutes
 * (10 on a loaded 2-core host with nothing cached), too long for the suite's 30: this runs only
 * with HANGAR_TEST_DEBIAN13=1. The recipe's arguments are unit-tested (debian.test.ts).
 */
const enabled = process.env.HANGAR_TEST_DEBIAN13 === '1';
let srv: RunningServer;
let api: ApiClient;
let token: string;
let tmp: string;
const sockets: Socket[] = [];

const cli = (args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 120_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });

beforeAll(async () => {
  if (!enabled) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-deb13-'));
  srv = await startServer({ env: { HANGAR_CACHE: process.env.HANGAR_TEST_CACHE ?? TEST_CACHE } });
  token = await adminToken(srv.url);
  api = client(srv.url, token);
}, 120_000);

afterAll(async () => {
  if (!enabled) return;
  for (const s of sockets) s.close();
  await tearDown(srv, api);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!enabled)('debian-13 and a Debian root filesystem tarball', () => {
  it(
    'builds debian-13 with debootstrap trixie from the configured mirror and runs a command in it',
    async () => {
      const job = await jobDone(api, await api.images.build({ kind: 'debian-13' }), 25 * 60_000);
      const logs = (await api.jobs.logs(job.id)).items.map((l) => l.line);
      expect(job.error, logs.slice(-20).join('\n')).toBeNull();
      const img = (await api.images.list()).items.find((i) => i.name === 'debian-13')!;
      expect(img.recipe).toMatchObject({ suite: 'trixie', kernel: expect.stringMatching(/amd64$/) });
      const r = await cli(['run', '--rm', 'debian-13', '--', 'cat', '/etc/os-release']);
      expect([r.code, r.stdout], r.stderr).toEqual([0, expect.stringContaining('VERSION_CODENAME=trixie')]);
    },
    26 * 60_000,
  );

  it('imports the tree as a .tar.zst (setuid files allowed) and boots it as an nspawn OS container', async () => {
    const file = path.join(tmp, 'trixie.tar.zst');
    const tar = await run(['tar', '--zstd', '--numeric-owner', '--xattrs', '-C', path.join(srv.dataDir, 'images/debian-13/rootfs'), '-cf', file, '.'], {
      timeoutMs: 300_000,
    });
    expect(tar.code, tar.stderr).toBe(0);
    const refused = await cli(['images', 'import', file, '--name', 'trixie-tar']);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/is setuid\/setgid .*refused unless setuid files are allowed/)]);
    const r = await cli(['images', 'import', file, '--name', 'trixie-tar', '--allow-setuid']);
    expect(r.code, r.stderr).toBe(0);
    const made = await api.machines.create({ name: 'it-trixie-tar', image: 'trixie-tar', driver: 'nspawn', memoryMib: 512 });
    const booted = await jobDone(api, made, 180_000);
    const log = path.join(srv.dataDir, 'machines', made.machineId!, 'console.log');
    expect(booted.error, fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-3000) : 'no console log').toBeNull();
    const con = await serialConsole(srv.url, token, made.machineId!, 'it-trixie-tar-console', sockets);
    await con.waitFor('login:');
    const os = await api.machines.exec(made.machineId!, ['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME; systemctl is-system-running --wait || true']);
    expect(os.stdout).toMatch(/^trixie\n(running|degraded)\n$/);
    expect((await jobDone(api, await api.machines.destroy(made.machineId!))).error).toBeNull();
  }, 600_000);
});
