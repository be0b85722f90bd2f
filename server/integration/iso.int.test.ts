import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { jobDone, serverWithBusybox, tearDown, until, type RunningServer } from './harness';
import { RfbClient } from './rfb-client';
import { buildTestIso, diskBootSector, TEST_ISO_MARK } from './test-iso';

/**
 * ISO installs on real QEMU: the library (uploads and downloads checked ISO 9660 before they are
 * kept, the size cap, the SSRF guard), a VM booted from a test ISO built here (grub-mkrescue
 * around the busybox guest): its boot menu read off the screen through the display path, Enter
 * typed into it, the CD ejected and inserted live, and after the guest's reboot the disk booted.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
let iso: string;
let files: http.Server;
const clients: RfbClient[] = [];

const refused = async (p: Promise<unknown>, status: number) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${status}`).toBeInstanceOf(ApiError);
  expect((err as ApiError).status, (err as ApiError).message).toBe(status);
  return err as ApiError;
};
const upload = (name: string, body: Buffer) => api.isos.upload(new Uint8Array(body), name);
const isoDir = () => path.join(srv.dataDir, 'isos');

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  iso = buildTestIso(srv.dataDir, path.join(srv.dataDir, 'tmp-test.iso'));
  // What the URL tests download: the test ISO, and a file that is not one.
  files = http.createServer((req, res) => {
    if (req.url === '/test.iso') fs.createReadStream(iso).pipe(res);
    else if (req.url === '/junk.iso') res.end(Buffer.alloc(100_000, 7));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
}, 400_000);

afterAll(async () => {
  for (const c of clients) c.close();
  files?.close();
  await tearDown(srv, api);
}, 120_000);

describe('the ISO library', () => {
  it('keeps an ISO 9660 upload with its size; refuses a non-ISO (400), one over the cap (413), a name with ../ (400), leaving nothing', async () => {
    const kept = await upload('test.iso', fs.readFileSync(iso));
    expect(kept).toMatchObject({ name: 'test.iso', format: 'iso9660', sizeBytes: fs.statSync(iso).size, usedBy: [] });
    expect((await refused(upload('junk.iso', Buffer.alloc(64 * 1024, 1)), 400)).message).toMatch(/not an ISO 9660 or UDF/);
    await api.settings.update({ isoMaxMib: 1 });
    await refused(upload('big.iso', fs.readFileSync(iso)), 413);
    await api.settings.update({ isoMaxMib: 8192 });
    const evil = await fetch(`${srv.url}/api/isos?name=${encodeURIComponent('../evil.iso')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: fs.readFileSync(iso),
    });
    expect(evil.status).toBe(400);
    expect(((await evil.json()) as { error: { code: string } }).error.code).toBeTruthy();
    await refused(upload('test.iso', fs.readFileSync(iso)), 409);
    expect((await api.isos.list()).items.map((i) => i.name)).toEqual(['test.iso']);
    // No half-kept file, no dot-file, nothing outside the library.
    expect(fs.readdirSync(isoDir())).toEqual(['test.iso']);
    expect(fs.existsSync(path.join(srv.dataDir, 'evil.iso'))).toBe(false);
  }, 60_000);

  it('downloads by URL as a job with progress; loopback refused until Settings allow it; a non-ISO download keeps nothing', async () => {
    const base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    expect((await refused(api.isos.download({ name: 'dl.iso', url: `${base}/test.iso` }), 400)).message).toMatch(/loopback/);
    await api.settings.update({ downloadAllowPrivate: true });
    try {
      const done = await jobDone(api, await api.isos.download({ name: 'dl.iso', url: `${base}/test.iso` }), 60_000);
      expect(done.error).toBeNull();
      expect(done.progress).toBe(100);
      expect((await api.isos.list()).items.find((i) => i.name === 'dl.iso')?.sizeBytes).toBe(fs.statSync(iso).size);
      const junk = await jobDone(api, await api.isos.download({ name: 'junk.iso', url: `${base}/junk.iso` }), 60_000);
      expect(junk.error).toMatch(/not an ISO 9660 or UDF/);
      expect(fs.readdirSync(isoDir()).sort()).toEqual(['dl.iso', 'test.iso']);
      await api.isos.remove('dl.iso');
    } finally {
      await api.settings.update({ downloadAllowPrivate: false });
    }
  }, 120_000);

  it('refuses --iso for a container driver (400) and an unknown ISO (404)', async () => {
    expect((await refused(api.machines.create({ name: 'iso-ct', driver: 'nspawn', iso: 'test.iso' }), 400)).message).toMatch(/VMs/);
    await refused(api.machines.create({ name: 'iso-none', iso: 'nope.iso' }), 404);
    await refused(api.machines.create({ name: 'iso-both', iso: 'test.iso', image: 'busybox' }), 400);
  });
});

describe('install from ISO', () => {
  const VM = 'iso-a';
  const serial = async () => (await api.machines.logs(VM, { tail: 1 << 20 })).text;
  const sh = async (script: string) => {
    const r = await api.machines.exec(VM, ['sh', '-c', script], 30);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const drive = async (): Promise<string | null> => {
    const q = await Qmp.connect(path.join(srv.dataDir, 'machines', (await api.machines.get(VM)).id, 'qmp.sock'));
    try {
      const blocks = await q.execute<{ device: string; removable: boolean; inserted?: { file: string } }[]>('query-block');
      return blocks.find((b) => b.removable)?.inserted?.file ?? null;
    } finally {
      q.close();
    }
  };

  it('boots the CD: the menu on the VGA screen, Enter boots busybox from it', async () => {
    const made = await jobDone(api, await api.machines.create({ name: VM, iso: 'test.iso', diskGib: 1, memoryMib: 256 }), 180_000);
    expect(made.error).toBeNull();
    const m = await api.machines.get(VM);
    expect(m).toMatchObject({ state: 'running', image: '', cdrom: 'test.iso', firmware: 'bios' });
    expect((await api.isos.list()).items.find((i) => i.name === 'test.iso')?.usedBy).toEqual([VM]);
    await refused(api.isos.remove('test.iso'), 409);
    const screen = await RfbClient.overWebsocket(`${srv.url.replace(/^http/, 'ws')}/api/machines/${VM}/display`, { authorization: `Bearer ${token}` });
    clients.push(screen);
    // grub's menu: most of the screen white on blue (SeaBIOS before it is grey on black).
    await screen.untilBlue(1 / 2, 'the boot menu on the screen');
    await screen.typeUntil('\n', async () => (await serial()).includes(TEST_ISO_MARK), 'the kernel of the boot menu');
    await until(async () => (await serial()).includes('hangar-ready'), 'busybox up from the CD', 120_000, 500);
    expect(await sh('cat /proc/cmdline')).toContain(TEST_ISO_MARK);
    expect(await drive()).toBe(path.join(srv.dataDir, 'isos', 'test.iso'));
  }, 400_000);

  it('ejects and inserts the disc live; a stopped machine refuses (409)', async () => {
    expect(await api.isos.cdrom(VM, { action: 'eject' })).toEqual({ machine: VM, iso: null });
    expect(await drive()).toBeNull();
    expect((await api.machines.get(VM)).cdrom).toBeNull();
    expect((await api.isos.list()).items[0].usedBy).toEqual([]);
    await refused(api.isos.cdrom(VM, { action: 'insert', iso: 'nope.iso' }), 404);
    expect(await api.isos.cdrom(VM, { action: 'insert', iso: 'test.iso' })).toEqual({ machine: VM, iso: 'test.iso' });
    expect(await drive()).toBe(path.join(srv.dataDir, 'isos', 'test.iso'));
  }, 60_000);

  it("after the guest's reboot boots the disk, not the CD", async () => {
    // The installer's work, in small: a boot sector on the empty disk, then a reboot.
    const octal = [...diskBootSector()].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    await sh(`printf '${octal}' > /tmp/mbr && dd if=/tmp/mbr of=/dev/vda bs=512 count=1 2>&1`);
    await sh('sync; (sleep 1; reboot -f) >/dev/null 2>&1 &');
    await until(async () => (await serial()).includes('hangar-disk-boot'), 'the boot sector on the disk running', 120_000, 500);
    expect((await api.machines.get(VM)).state).toBe('running');
    expect((await jobDone(api, await api.machines.act(VM, 'stop', { force: true }))).error).toBeNull();
    await refused(api.isos.cdrom(VM, { action: 'eject' }), 409);
    expect((await jobDone(api, await api.machines.destroy(VM))).error).toBeNull();
  }, 300_000);

  it('UEFI: OVMF code read-only, a variable store of its own, the CD booted to its menu', async () => {
    const body = { name: 'iso-u', iso: 'test.iso', firmware: 'uefi' as const, diskGib: 1, memoryMib: 256 };
    const made = await jobDone(api, await api.machines.create(body), 180_000);
    expect(made.error).toBeNull();
    const m = await api.machines.get('iso-u');
    expect(m.firmware).toBe('uefi');
    const dir = path.join(srv.dataDir, 'machines', m.id);
    expect(fs.statSync(path.join(dir, 'OVMF_VARS.fd')).size).toBe(fs.statSync('/usr/share/OVMF/OVMF_VARS_4M.fd').size);
    const pid = Number(fs.readFileSync(path.join(dir, 'qemu.pid'), 'utf8'));
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd');
    const screen = await RfbClient.overWebsocket(`${srv.url.replace(/^http/, 'ws')}/api/machines/iso-u/display`, { authorization: `Bearer ${token}` });
    clients.push(screen);
    // The same CD boots under OVMF (grub-mkrescue's EFI El Torito image): grub's menu, white on blue, in the middle of a
    // larger screen (over a third of it; OVMF's own screen before it is white on black).
    await screen.untilBlue(1 / 4, "the boot menu on OVMF's screen");
    expect((await jobDone(api, await api.machines.destroy('iso-u'))).error).toBeNull();
  }, 300_000);
});

describe('the CLI', () => {
  const hangar = (...args: string[]) =>
    run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 60_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token, XDG_CONFIG_HOME: srv.dataDir } });

  it('hangar create --iso FILE uploads it into the library; isos lists it in use; cdrom on a stopped VM and --iso on a container fail', async () => {
    const local = path.join(srv.dataDir, 'cli.iso');
    fs.copyFileSync(iso, local);
    const made = await hangar('create', 'cli-iso', '--iso', local, '--disk', '1', '--memory', '128', '--no-start');
    expect(made.code, made.stderr).toBe(0);
    expect(await api.machines.get('cli-iso')).toMatchObject({ state: 'stopped', cdrom: 'cli.iso', firmware: 'bios' });
    const listed = await hangar('isos');
    expect(listed.stdout).toMatch(/cli\.iso\s+.*in cli-iso/);
    const eject = await hangar('cdrom', 'eject', 'cli-iso');
    expect(eject.code).not.toBe(0);
    expect(eject.stderr).toMatch(/stopped: start it/);
    const ct = await hangar('create', 'cli-ct', '--driver', 'nspawn', '--iso', 'cli.iso');
    expect(ct.code).not.toBe(0);
    expect(ct.stderr).toMatch(/VMs/);
    expect((await jobDone(api, await api.machines.destroy('cli-iso'))).error).toBeNull();
    expect((await hangar('isos', 'rm', 'cli.iso')).code).toBe(0);
  }, 120_000);
});
