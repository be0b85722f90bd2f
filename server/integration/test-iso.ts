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

/** What the test disk's kernel line carries, to tell its boot from the others'. */
export const TEST_DISK_MARK = 'hangar.disk-test=1';

/**
 * A small bootable qcow2 disk image with no download (BIOS): an MBR with GRUB's boot.img, GRUB's core.img in the gap
 * before the first partition (its config embedded: the kernel and initramfs of the partition's /boot), and one ext4
 * partition (`mkfs.ext4 -d`, no loop device) holding the cached Debian kernel and the busybox image's initramfs of the
 * server whose data dir is given, as in buildTestIso. A disk-image machine of it boots busybox into memory in seconds.
 */
export function buildTestDisk(dataDir: string, out: string): string {
  const SECTOR = 512;
  const START = 2048;
  const BYTES = 64 * 2 ** 20;
  const kernels = path.join(TEST_CACHE, 'kernels');
  const version = fs.readdirSync(kernels).find((v) => fs.existsSync(path.join(kernels, v, 'vmlinuz')));
  if (!version) throw new Error(`no guest kernel under ${kernels}: build the busybox image first`);
  const work = `${out}.d`;
  const sh = (argv: string[]) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  };
  try {
    const root = path.join(work, 'root');
    fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
    fs.copyFileSync(path.join(kernels, version, 'vmlinuz'), path.join(root, 'boot', 'vmlinuz'));
    fs.copyFileSync(path.join(dataDir, 'images', 'busybox', 'initrd.img'), path.join(root, 'boot', 'initrd.img'));
    const raw = path.join(work, 'disk.raw');
    fs.writeFileSync(raw, '');
    fs.truncateSync(raw, BYTES);
    const mbr = Buffer.alloc(SECTOR);
    fs.readFileSync('/usr/lib/grub/i386-pc/boot.img').copy(mbr, 0, 0, 440);
    mbr[446] = 0x80;
    mbr.set([0xfe, 0xff, 0xff], 447);
    mbr[450] = 0x83;
    mbr.set([0xfe, 0xff, 0xff], 451);
    mbr.writeUInt32LE(START, 454);
    mbr.writeUInt32LE(BYTES / SECTOR - START, 458);
    mbr.writeUInt16LE(0xaa55, 510);
    sh(['mkfs.ext4', '-F', '-q', '-b', '4096', '-E', `offset=${START * SECTOR}`, '-d', root, raw, String((BYTES - START * SECTOR) / 4096)]);
    const cfg = path.join(work, 'early.cfg');
    fs.writeFileSync(cfg, `set root=(hd0,msdos1)\nlinux /boot/vmlinuz console=ttyS0 panic=-1 ${TEST_DISK_MARK}\ninitrd /boot/initrd.img\nboot\n`);
    const core = path.join(work, 'core.img');
    sh(['grub-mkimage', '-O', 'i386-pc', '-o', core, '-c', cfg, '-p', '(hd0,msdos1)/boot/grub', 'biosdisk', 'part_msdos', 'ext2', 'linux', 'boot']);
    const fd = fs.openSync(raw, 'r+');
    try {
      fs.writeSync(fd, mbr, 0, SECTOR, 0);
      const img = fs.readFileSync(core);
      fs.writeSync(fd, img, 0, img.length, SECTOR);
    } finally {
      fs.closeSync(fd);
    }
    sh(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out]);
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
