import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** Where the test servers cache downloads (harness.ts's TEST_CACHE; the e2e server's HANGAR_CACHE too). Not imported: e2e specs use this file. */
const TEST_CACHE = path.join(os.tmpdir(), 'hangar-test-cache');

/** What the test ISO's kernel line carries, to tell its boot from the image machines'. */
export const TEST_ISO_MARK = 'hangar.iso-test=1';

/**
 * A small bootable ISO with no download: grub-mkrescue (grub-pc-bin and grub-efi-amd64-bin, so it
 * boots with BIOS and UEFI; xorriso, mtools) around Hangar's busybox guest (the cached Debian
 * kernel and the busybox image's initramfs of the server whose data dir is given, so its init,
 * agent and "hangar-ready" come up), with a menu drawn white on blue on the screen that waits for
 * Enter (timeout -1): a test sees the menu, then types into it to boot (or `c` for grub's prompt).
 * Used by the integration tests and the e2e specs.
 */
export function buildTestIso(dataDir: string, out: string): string {
  const kernels = path.join(TEST_CACHE, 'kernels');
  const version = fs.readdirSync(kernels).find((v) => fs.existsSync(path.join(kernels, v, 'vmlinuz')));
  if (!version) throw new Error(`no guest kernel under ${kernels}: build the busybox image first`);
  const root = `${out}.d`;
  fs.mkdirSync(path.join(root, 'boot', 'grub'), { recursive: true });
  fs.copyFileSync(path.join(kernels, version, 'vmlinuz'), path.join(root, 'boot', 'vmlinuz'));
  fs.copyFileSync(path.join(dataDir, 'images', 'busybox', 'initrd.img'), path.join(root, 'boot', 'initrd.img'));
  fs.writeFileSync(
    path.join(root, 'boot', 'grub', 'grub.cfg'),
    [
      'set timeout=-1',
      'set default=0',
      'set color_normal=white/blue',
      'set menu_color_normal=white/blue',
      'set menu_color_highlight=blue/white',
      'menuentry "Hangar test ISO: busybox" {',
      `  linux /boot/vmlinuz console=ttyS0 panic=-1 ${TEST_ISO_MARK}`,
      '  initrd /boot/initrd.img',
      '}',
      '',
    ].join('\n'),
  );
  const r = spawnSync('grub-mkrescue', ['-o', out, root], { encoding: 'utf8' });
  fs.rmSync(root, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`grub-mkrescue failed: ${r.stderr}`);
  return out;
}

/**
 * A boot sector for the machine's disk: prints "hangar-disk-boot" on COM1 (the serial console)
 * and halts. Written by the guest booted from the CD, it shows that the next boot (after the
 * guest's reboot) came from the disk, not the CD.
 */
export function diskBootSector(): Buffer {
  const code = [0x31, 0xc0, 0x8e, 0xd8, 0xfc, 0xba, 0xf8, 0x03, 0xbe, 0x16, 0x7c, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xf4, 0xeb, 0xfd];
  const sector = Buffer.alloc(512);
  Buffer.from(code).copy(sector, 0);
  sector.write('\r\nhangar-disk-boot\r\n\0', code.length, 'latin1');
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}
