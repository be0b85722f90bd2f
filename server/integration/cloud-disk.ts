import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_CACHE } from './harness';

/**
 * A bootable cloud disk made from the debian-12 root filesystem the test tier keeps built
 * (HANGAR_TEST_IMAGE_CACHE), with no download but Debian's mirror: cloud-init installed into a
 * copy of the rootfs (apt inside systemd-nspawn), Hangar's own per-boot units taken out (so the
 * hostname and key can only come from cloud-init), then a raw disk made without loop devices:
 * an MBR written by hand, one ext4 partition filled by `mkfs.ext4 -E offset=… -d`, and GRUB's
 * BIOS boot.img and a core.img (grub-mkimage, its config embedded) in the gap before it; and,
 * as Debian's own cloud images are, an EFI system partition (FAT, made with mtools) at the end
 * with GRUB's x86_64-efi image as EFI/BOOT/BOOTX64.EFI: the disk boots with BIOS and with UEFI.
 * Converted to qcow2 and kept in the test cache, so a run builds it once.
 */

const sh = (argv: string[], opts: { cwd?: string } = {}) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...opts });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
};

/** The newest built debian-12 root filesystem in the test cache, or null. */
export function cachedDebianRootfs(): string | null {
  const dir = path.join(TEST_CACHE, 'built-images');
  const built = fs.existsSync(dir) ? fs.readdirSync(dir).map((d) => path.join(dir, d)) : [];
  const ok = built.filter((d) => {
    const facts = fs.existsSync(path.join(d, 'built.json')) ? fs.readFileSync(path.join(d, 'built.json'), 'utf8') : '';
    return (
      facts.includes('"bookworm"') && fs.existsSync(path.join(d, 'files/rootfs/boot')) && fs.existsSync(path.join(d, 'files/rootfs/usr/lib/systemd/systemd'))
    );
  });
  ok.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return ok.length ? path.join(ok[0], 'files/rootfs') : null;
}

const SECTOR = 512;
/** The partition starts at 1 MiB: GRUB's core.img lives in the sectors before it. */
const PART_START = 2048;
const DISK_BYTES = 1536 * 2 ** 20;
/** The EFI system partition: the disk's last 32 MiB. */
const ESP_BYTES = 32 * 2 ** 20;
const ESP_START = (DISK_BYTES - ESP_BYTES) / SECTOR;

/** A bootable Linux partition from PART_START, then the EFI system partition (0xEF), in a classic MBR; GRUB's boot.img code in front. */
function writeMbr(disk: string): void {
  const mbr = Buffer.alloc(SECTOR);
  fs.readFileSync('/usr/lib/grub/i386-pc/boot.img').copy(mbr, 0, 0, 440);
  const e = 446;
  mbr[e] = 0x80;
  mbr.set([0xfe, 0xff, 0xff], e + 1);
  mbr[e + 4] = 0x83;
  mbr.set([0xfe, 0xff, 0xff], e + 5);
  mbr.writeUInt32LE(PART_START, e + 8);
  mbr.writeUInt32LE(ESP_START - PART_START, e + 12);
  const esp = e + 16;
  mbr.set([0xfe, 0xff, 0xff], esp + 1);
  mbr[esp + 4] = 0xef;
  mbr.set([0xfe, 0xff, 0xff], esp + 5);
  mbr.writeUInt32LE(ESP_START, esp + 8);
  mbr.writeUInt32LE(ESP_BYTES / SECTOR, esp + 12);
  mbr.writeUInt16LE(0xaa55, 510);
  const fd = fs.openSync(disk, 'r+');
  try {
    fs.writeSync(fd, mbr, 0, SECTOR, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** How long a built disk is used before it is made again (from that day's rootfs and Debian mirror). */
const DISK_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * The qcow2 cloud disk for `rootfs`: the one built earlier in this cache by this file as it is now, up to a week old, or
 * built now (about a minute: a copy of the rootfs, cloud-init from the mirror, the file system, GRUB). It was keyed by the
 * rootfs's build, one per server build, so every run made another 533 MB disk and kept the old ones; now the disks of
 * another recipe, or past their week, are removed.
 */
export function cloudDisk(rootfs: string): string {
  const dir = path.join(TEST_CACHE, 'cloud-disk');
  const recipe = createHash('sha256')
    .update(fs.readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex')
    .slice(0, 16);
  const out = path.join(dir, `${recipe}-bios-uefi.qcow2`);
  if (Date.now() - (fs.statSync(out, { throwIfNoEntry: false })?.mtimeMs ?? 0) < DISK_MAX_AGE_MS) return out;
  fs.mkdirSync(dir, { recursive: true });
  // Built again: the disks of other recipes, and the one past its week, go (with a build a killed run left: over an hour old).
  for (const f of fs.readdirSync(dir))
    if (f.endsWith('-bios-uefi.qcow2') || (f.startsWith('.build-') && Date.now() - fs.statSync(path.join(dir, f)).mtimeMs > 3600_000))
      fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(out), '.build-'));
  try {
    const root = path.join(tmp, 'root');
    sh(['cp', '-a', '--reflink=auto', rootfs, root]);
    for (const unit of ['hangar-init', 'hangar-ready', 'hangar-agent'])
      fs.rmSync(path.join(root, `etc/systemd/system/multi-user.target.wants/${unit}.service`));
    fs.rmSync(path.join(root, 'root/.ssh'), { recursive: true, force: true });
    fs.rmSync(path.join(root, 'etc/hostname'), { force: true });
    // apt in a chroot of its own mount namespace (proc, dev and sys go with it), the host's resolver copied in.
    fs.copyFileSync('/etc/resolv.conf', path.join(root, 'etc/resolv.conf'));
    const install = 'apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends cloud-init && apt-get clean';
    const mounts = `mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && mount -t sysfs sys "$1/sys"`;
    sh(['unshare', '--mount', '--propagation', 'private', '--fork', 'sh', '-c', `${mounts} && chroot "$1" sh -c '${install}'`, 'sh', root]);
    fs.writeFileSync(
      path.join(root, 'etc/cloud/cloud.cfg.d/90-hangar-test.cfg'),
      [
        'datasource_list: [NoCloud, None]',
        // One host key type: RSA's (the default with ECDSA) takes many seconds of a TCG guest's first boot, before sshd.
        'ssh_genkeytypes: [ed25519]',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(root, 'etc/fstab'), '/dev/vda1 / ext4 rw,errors=remount-ro 0 1\n');
    const kernel = fs.readdirSync(path.join(root, 'boot')).find((f) => f.startsWith('vmlinuz-'))!;
    const version = kernel.slice('vmlinuz-'.length);
    const raw = path.join(tmp, 'disk.raw');
    fs.writeFileSync(raw, '');
    fs.truncateSync(raw, DISK_BYTES);
    writeMbr(raw);
    const blocks = ((ESP_START - PART_START) * SECTOR) / 4096;
    sh([
      'mkfs.ext4',
      '-F',
      '-q',
      '-b',
      '4096',
      '-L',
      'root',
      '-O',
      '^metadata_csum_seed,^orphan_file',
      '-E',
      `offset=${PART_START * SECTOR}`,
      '-d',
      root,
      raw,
      String(blocks),
    ]);
    // GRUB's embedded config runs in its rescue parser: the kernel and initrd of the disk's own /boot.
    const cfg = path.join(tmp, 'early.cfg');
    fs.writeFileSync(
      cfg,
      `set root=(hd0,msdos1)\nlinux /boot/vmlinuz-${version} root=/dev/vda1 rw console=ttyS0 panic=-1\ninitrd /boot/initrd.img-${version}\nboot\n`,
    );
    const core = path.join(tmp, 'core.img');
    sh(['grub-mkimage', '-O', 'i386-pc', '-o', core, '-c', cfg, '-p', '(hd0,msdos1)/boot/grub', 'biosdisk', 'part_msdos', 'ext2', 'linux', 'boot']);
    const img = fs.readFileSync(core);
    if (img.length > (PART_START - 1) * SECTOR) throw new Error(`core.img is ${img.length} bytes: too big for the gap`);
    // UEFI: the same config in GRUB's EFI image, the removable-media path OVMF boots without boot entries.
    const efi = path.join(tmp, 'BOOTX64.EFI');
    sh(['grub-mkimage', '-O', 'x86_64-efi', '-o', efi, '-c', cfg, '-p', '(hd0,msdos1)/boot/grub', 'part_msdos', 'ext2', 'linux', 'boot']);
    const esp = path.join(tmp, 'esp.img');
    fs.writeFileSync(esp, '');
    fs.truncateSync(esp, ESP_BYTES);
    sh(['mformat', '-i', esp, '-v', 'ESP', '::']);
    sh(['mmd', '-i', esp, '::/EFI', '::/EFI/BOOT']);
    sh(['mcopy', '-i', esp, efi, '::/EFI/BOOT/BOOTX64.EFI']);
    const fd = fs.openSync(raw, 'r+');
    try {
      fs.writeSync(fd, img, 0, img.length, SECTOR);
      fs.writeSync(fd, fs.readFileSync(esp), 0, ESP_BYTES, ESP_START * SECTOR);
    } finally {
      fs.closeSync(fd);
    }
    sh(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, `${out}.part`]);
    fs.renameSync(`${out}.part`, out);
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// `npx tsx server/integration/cloud-disk.ts`: build it ahead of a test run.
if (process.argv[1]?.endsWith('cloud-disk.ts')) {
  const rootfs = cachedDebianRootfs();
  if (!rootfs) throw new Error('no built debian-12 in the test cache');
  console.log(cloudDisk(rootfs));
}
