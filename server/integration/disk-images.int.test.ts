import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { cachedDebianRootfs, cloudDisk } from './cloud-disk';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';

/**
 * VM disk images: a qcow2 disk made in the test from the debian-12 rootfs the test tier keeps built
 * (cloud-init installed from the mirror, GRUB for BIOS; see cloud-disk.ts, built once per cache),
 * imported through the CLI, booted under QEMU with its own kernel and a cloud-init seed Hangar
 * made; the hostname, the machine's key (exec over SSH) and the user's key (a plain `ssh`) and the
 * user-data asked for must all be applied. The bad inputs: not a disk, a backing file, oversized,
 * a wrong checksum, a path outside the data dir, user-data that is not YAML; each leaves nothing.
 * Without a built debian-12 in the cache (a run that has not built it yet) it is skipped.
 */
const rootfs = cachedDebianRootfs();

let srv: RunningServer;
let api: ApiClient;
let token: string;
let tmp: string;
let disk: string;
let web: http.Server;

const cli = (args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 900_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const sh = (argv: string[]) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/**
 * The guest's disk stalled at boot: a virtio-blk read never completed (a lost interrupt under TCG; seen once in CI on
 * the UEFI guest, its kernel reporting udev blocked in the partition scan). QEMU's, not Hangar's: the guest gets one
 * restart, said in the log. A guest that stalls again fails the test.
 */
const restarted = new Set<string>();
async function restartIfStalled(name: string): Promise<void> {
  if (restarted.has(name)) return;
  // The end of its serial log, through the API (`hangar logs`) rather than the server's files.
  const stalled = /blocked for more than \d+ seconds/.exec((await api.machines.logs(name, { tail: 1 << 16 })).text);
  if (!stalled) return;
  restarted.add(name);
  console.error(`disk-images: ${name}'s disk stalled at boot (its kernel: "${stalled[0]}"): restarting it once`);
  expect((await jobDone(api, await api.machines.act(name, 'stop', { force: true }))).error).toBeNull();
  expect((await jobDone(api, await api.machines.act(name, 'start'))).error).toBeNull();
}
/**
 * A command's output once the guest answers over SSH (cloud-init and sshd come up in their own time under TCG: minutes on
 * a loaded host). A guest whose disk stalled at boot is restarted once.
 */
async function untilExec(name: string, argv: string[]): Promise<string> {
  for (const end = Date.now() + 25 * 60_000; Date.now() < end;) {
    const x = await api.machines.exec(name, argv, 600).catch(() => null);
    if (x?.code === 0) return x.stdout;
    await restartIfStalled(name);
    await new Promise((res) => setTimeout(res, 1000));
  }
  return '';
}
/** The images dir holds no upload, download or scratch left from an import. */
const leftovers = () => fs.readdirSync(path.join(srv.dataDir, 'images')).filter((e) => e.startsWith('.'));

beforeAll(async () => {
  if (!rootfs) return;
  disk = cloudDisk(rootfs);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-disk-images-'));
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  // /small.qcow2: a good disk made by the first test; anything else: not a disk.
  web = http.createServer((req, res) =>
    req.url === '/small.qcow2' ? fs.createReadStream(path.join(tmp, 'small.qcow2')).pipe(res) : res.end('this is not a disk\n'.repeat(100)),
  );
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
}, 1_200_000);

afterAll(async () => {
  if (!rootfs) return;
  web?.close();
  await tearDown(srv, api);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!rootfs)('VM disk images with cloud-init', () => {
  it('refuses what is not a standalone disk under the cap, leaving nothing behind', async () => {
    const text = path.join(tmp, 'notes.img');
    fs.writeFileSync(text, 'hello\n'.repeat(1000));
    const r = await cli(['images', 'import', text, '--disk', '--name', 'notdisk']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('not a disk image');
    const escaping = path.join(tmp, 'escape.qcow2');
    sh(['qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', '/etc/shadow', '-F', 'raw', escaping, '1G']);
    const e = await api.images.importDisk(fs.readFileSync(escaping), { name: 'escape' }).catch((err: Error) => err);
    expect(e).toMatchObject({ status: 400, message: expect.stringContaining('has a backing file (/etc/shadow)') });
    const big = path.join(tmp, 'big.qcow2');
    sh(['qemu-img', 'create', '-q', '-f', 'qcow2', big, '4T']);
    const b = await api.images.importDisk(fs.readFileSync(big), { name: 'big' }).catch((err: Error) => err);
    expect(b).toMatchObject({ status: 400, message: expect.stringContaining('more than the 2.0 TiB allowed') });
    const small = path.join(tmp, 'small.qcow2');
    sh(['qemu-img', 'create', '-q', '-f', 'qcow2', small, '1G']);
    const sum = await api.images.importDisk(fs.readFileSync(small), { name: 'small', sha256: '0'.repeat(64) }).catch((err: Error) => err);
    expect(sum).toMatchObject({ status: 400, message: expect.stringContaining('not 0000') });
    const outside = await api.images.importDiskFrom({ name: 'outside', path: '/etc/passwd' }).catch((err: Error) => err);
    expect(outside).toMatchObject({ status: 400, message: expect.stringContaining("not a file in the data dir's imports/") });
    const db = await api.images.importDiskFrom({ name: 'outside', path: path.join(srv.dataDir, 'hangar.db') }).catch((err: Error) => err);
    expect(db).toMatchObject({ status: 400, message: expect.stringContaining("not a file in the data dir's imports/") });
    // A download that is not a disk: the job fails, its file and row go.
    await api.settings.update({ downloadAllowPrivate: true });
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/cloud.img`;
    const d = await cli(['images', 'import', url, '--disk', '--name', 'fromurl']);
    expect(d.code).not.toBe(0);
    expect(d.stdout + d.stderr).toContain('not a disk image');
    await api.settings.update({ downloadAllowPrivate: false });
    expect((await api.images.list()).items.map((i) => i.name)).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('imports a qcow2 disk: checked, kept with its format and virtual size', async () => {
    const r = await cli(['images', 'import', disk, '--disk', '--name', 'cloudy']);
    expect(r.code, r.stderr).toBe(0);
    // BIOS boot code and an EFI system partition (a hybrid, as Debian's cloud images are): BIOS unless a machine asks.
    expect(r.stdout).toContain('Disk image cloudy is ready: qcow2, 1.5 GiB virtual, BIOS boot');
    const img = (await api.images.list()).items.find((i) => i.name === 'cloudy');
    expect(img).toMatchObject({ kind: 'disk', state: 'ready', recipe: { format: 'qcow2', virtualBytes: 1536 * 2 ** 20, firmware: 'bios' } });
    // The same disk without the MBR's boot code: only UEFI can start it, and the import says so.
    const efiOnly = path.join(tmp, 'efi-only.qcow2');
    fs.copyFileSync(disk, efiOnly);
    sh(['qemu-io', '-f', 'qcow2', '-c', 'write -q -P 0 0 440', efiOnly]);
    const e = await cli(['images', 'import', efiOnly, '--disk', '--name', 'cloudy-efi']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('Disk image cloudy-efi is ready: qcow2, 1.5 GiB virtual, UEFI boot');
    expect(leftovers()).toEqual([]);
    // A file on the server, in the data dir's imports/: converted (raw) into the image's own qcow2, the file left as it was.
    fs.mkdirSync(path.join(srv.dataDir, 'imports'), { recursive: true });
    const raw = path.join(srv.dataDir, 'imports', 'small.raw');
    sh(['qemu-img', 'convert', '-q', '-O', 'raw', path.join(tmp, 'small.qcow2'), raw]);
    const mbr = Buffer.alloc(512);
    mbr.writeUInt16LE(0xaa55, 510);
    const fd = fs.openSync(raw, 'r+');
    fs.writeSync(fd, mbr, 0, 512, 0);
    fs.closeSync(fd);
    const p = await cli(['images', 'import', `server:${raw}`, '--disk', '--name', 'local-raw']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain('Disk image local-raw is ready: raw, 1.0 GiB virtual');
    expect(fs.existsSync(raw)).toBe(true);
    // A good disk by URL (a job that downloads, checks and keeps it), from a private address an admin allowed.
    await api.settings.update({ downloadAllowPrivate: true });
    try {
      const u = await cli(['images', 'import', `http://127.0.0.1:${(web.address() as AddressInfo).port}/small.qcow2`, '--disk', '--name', 'from-url']);
      expect(u.code, u.stderr).toBe(0);
      expect(u.stdout).toContain('Disk image from-url is ready: qcow2, 1.0 GiB virtual');
    } finally {
      await api.settings.update({ downloadAllowPrivate: false });
    }
    expect(leftovers()).toEqual([]);
    const ls = await cli(['images', 'ls']);
    expect(ls.stdout).toMatch(/cloudy .* qcow2, 1\.5 GiB virtual\n/);
    expect(ls.stdout).toMatch(/cloudy-efi .* qcow2, 1\.5 GiB virtual, UEFI/);
    expect(ls.stdout).toMatch(/local-raw .* raw, 1\.0 GiB virtual/);
  }, 180_000);

  it('refuses user-data that is not YAML (API 400 naming the field, CLI exit 2), creating nothing', async () => {
    const bad = await api.machines.create({ name: 'cloud-bad', image: 'cloudy', userData: 'packages: [curl\n' }).catch((e: Error) => e);
    expect(bad).toMatchObject({
      status: 400,
      issues: [expect.objectContaining({ path: 'userData', message: expect.stringContaining('user-data is not YAML') })],
    });
    const file = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(file, 'runcmd: [ "a"\n  - b: c\n');
    const r = await cli(['create', 'cloud-bad', '--image', 'cloudy', '--user-data', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not YAML');
    expect((await api.machines.list()).items).toEqual([]);
  });

  it("boots its own kernel with the seed: cloud-init sets the hostname, the machine's and the user's keys, the user-data", async () => {
    const userKey = path.join(tmp, 'user_key');
    sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'tester', '-f', userKey]);
    await api.sshKeys.add({ publicKey: fs.readFileSync(`${userKey}.pub`, 'utf8') });
    const userData = path.join(tmp, 'user-data.yaml');
    fs.writeFileSync(userData, '#cloud-config\nwrite_files:\n  - path: /root/from-user-data\n    content: "asked for\\n"\n');
    const r = await cli(['create', 'cloud-one', '--image', 'cloudy', '--user-data', userData, '--memory', '768']);
    expect(r.code, r.stderr).toBe(0);
    const m = await api.machines.get('cloud-one');
    expect(m).toMatchObject({ state: 'running', ssh: { user: 'root' }, firmware: 'bios' });
    // exec goes over SSH with the machine's key.
    expect(await untilExec('cloud-one', ['sh', '-c', 'cloud-init status --wait >/dev/null; hostname; cat /root/from-user-data'])).toBe(
      'cloud-one\nasked for\n',
    );
    const port = (await api.machines.get('cloud-one')).ssh!.port!;
    const ssh = sh([
      'ssh',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-i',
      userKey,
      '-p',
      String(port),
      'root@127.0.0.1',
      'hostname',
    ]);
    expect(ssh).toBe('cloud-one\n');
    const del = await api.images.remove((await api.images.list()).items.find((i) => i.name === 'cloudy')!.id).catch((e: Error) => e);
    expect(del).toMatchObject({ status: 409 });
  }, 1_800_000);

  it('forks with a seed of its own (renamed live, a new instance at its next boot); a UEFI-only disk boots with UEFI unasked', async () => {
    // The UEFI machine boots meanwhile (the firmware read off the disk at import, no --firmware given).
    const efiJob = await api.machines.create({ name: 'cloud-efi', image: 'cloudy-efi', memoryMib: 768 });
    const snap = ((await jobDone(api, await api.snapshots.checkpoint('cloud-one', 'booted'))).result as { snapshot: string }).snapshot;
    const fork = await jobDone(api, await api.snapshots.fork(snap, { names: ['cloud-two'] }));
    expect(fork.error).toBeNull();
    // Live: its fix-ups went over SSH (no agent in a cloud image) and named it; its seed is its own file.
    expect((await api.machines.exec('cloud-two', ['hostname'])).stdout).toBe('cloud-two\n');
    const two = await api.machines.get('cloud-two');
    const seed = path.join(srv.dataDir, 'machines', two.id, 'seed.iso');
    expect(fs.existsSync(seed)).toBe(true);
    // At its next boot cloud-init sees the fork's instance-id and hostname; its host keys stay (pinned): exec still works.
    // A clean shutdown (ACPI): the guest's page cache reaches its disk, as the host keys it wrote a minute ago must.
    expect((await jobDone(api, await api.machines.act('cloud-two', 'stop', { force: false, timeoutS: 300 }), 400_000)).error).toBeNull();
    expect((await jobDone(api, await api.machines.act('cloud-two', 'start'))).error).toBeNull();
    // sshd starts after cloud-init's init stage (its unit's order), which writes the instance-id and sets the hostname:
    // the later stages are not waited for.
    const after = await untilExec('cloud-two', ['sh', '-c', 'cat /var/lib/cloud/data/instance-id; hostname']);
    expect(after).toBe(`${two.id}\ncloud-two\n`);
    // The source is untouched by its fork.
    expect((await api.machines.exec('cloud-one', ['hostname'])).stdout).toBe('cloud-one\n');
    expect((await jobDone(api, efiJob)).error).toBeNull();
    expect(await api.machines.get('cloud-efi')).toMatchObject({ state: 'running', firmware: 'uefi' });
    const efi = await untilExec('cloud-efi', ['sh', '-c', 'hostname; test -d /sys/firmware/efi && echo efi']);
    expect(efi).toBe('cloud-efi\nefi\n');
    // Not left booting its later stages beside the next file's guests.
    expect((await jobDone(api, await api.machines.destroy('cloud-efi'))).error).toBeNull();
  }, 1_800_000);
});
