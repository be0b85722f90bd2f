import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { firstLine, run } from '../exec';
import { GUEST_EMPTY_DIRS, GUEST_ENABLE, GUEST_MASK, PRUNED_MODULES, writeGuestFiles } from './debian-guest';
import type { ImageKind } from '@/lib/contracts/images';
import type { ImageRecipe } from '../types';
import { mirrorFor, readHostAptSources, type AptSource } from './apt-sources';
import type { ImageFiles } from './busybox';

export const DEBIAN_PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'dbus', 'openssh-server', 'iproute2', 'linux-image-amd64', 'e2fsprogs', 'kmod'];

/** A Debian-family release the recipe builds: the image kind and the archive suite debootstrap takes. */
export interface DebianRelease {
  kind: ImageKind;
  suite: string;
}

/** The releases Hangar builds; another suite the configured mirror serves is one more line here. */
export const DEBIAN_RELEASES: readonly DebianRelease[] = [
  { kind: 'debian-12', suite: 'bookworm' },
  { kind: 'debian-13', suite: 'trixie' },
];

/** What an image of the release records as its recipe. */
export const debianRecipeFacts = (r: DebianRelease) => ({
  kind: r.kind,
  tool: 'debootstrap --variant=minbase',
  suite: r.suite,
  packages: DEBIAN_PACKAGES.join(' '),
  guest: 'hangar-guest v2 (key from kernel command line, agent on ttyS1 that stops a command on request, ready marker after sshd)',
});

/** debootstrap's argv for a release: minbase with the guest packages, from the mirror, .debs kept in the cache. */
export const debootstrapArgv = (suite: string, root: string, mirror: string, cacheDir: string): string[] => [
  'debootstrap',
  '--variant=minbase',
  `--include=${DEBIAN_PACKAGES.join(',')}`,
  `--cache-dir=${cacheDir}`,
  suite,
  root,
  mirror,
];

/**
 * debootstrap's environment, passed down to the packages' scripts. `INITRD=No`: the kernel package's
 * hook (/etc/kernel/postinst.d/initramfs-tools) makes no initramfs, so neither does initramfs-tools'
 * trigger after it (it updates only one that exists). Both were the full MODULES=most kind, thrown
 * away by the small one the build makes itself once the guest's initramfs settings are written:
 * 103 of debootstrap's 182 s for bookworm on an idle 2-core host (79 s without them).
 */
export const DEBOOTSTRAP_ENV = { INITRD: 'No' };

/** The kernel command line of Debian machines; the driver adds the hostname and SSH key. */
export const DEBIAN_APPEND = 'root=/dev/vda rw console=ttyS0 panic=-1';

/** debootstrap prints about this many lines for the package set above: enough for a progress bar. */
const EXPECTED_LINES = 670;

export interface DebianBuildOptions {
  suite: string;
  mirror: string;
  /** Downloaded .debs, kept between builds. */
  cacheDir: string;
  log: (line: string) => void;
  progress: (pct: number, message: string) => void;
  signal: AbortSignal;
}

async function must(
  argv: string[],
  what: string,
  opts: { signal?: AbortSignal; timeoutMs?: number; onLine?: (l: string) => void; env?: Record<string, string> } = {},
): Promise<void> {
  const r = await run(argv, { timeoutMs: opts.timeoutMs ?? 300_000, signal: opts.signal, onLine: opts.onLine, env: opts.env });
  opts.signal?.throwIfAborted();
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${firstLine(r.stderr) || firstLine(r.stdout)}`);
}

async function emptyDir(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (n !== 'partial' && n !== 'lock') await fs.rm(path.join(dir, n), { recursive: true, force: true });
}

async function duBytes(dir: string): Promise<number> {
  const r = await run(['du', '-sb', '--apparent-size', dir], { timeoutMs: 120_000 });
  return Number(r.stdout.split('\t')[0]) || 0;
}

/**
 * A Debian image (`debian-12`, `debian-13`): debootstrap minbase with systemd, sshd and Debian's kernel, Hangar's
 * guest files, then `mkfs.ext4 -d` (no loop mounts) and a qcow2. The root filesystem stays
 * next to it for containers. Kernel and initrd are taken from the image's /boot.
 */
export async function buildDebianImage(outDir: string, o: DebianBuildOptions): Promise<ImageFiles & { kernelVersion: string }> {
  const root = path.join(outDir, 'rootfs');
  await fs.mkdir(root, { recursive: true });
  await fs.mkdir(o.cacheDir, { recursive: true });
  o.progress(3, `debootstrap ${o.suite} from ${o.mirror}`);
  o.log(`mirror: ${o.mirror}`);
  let lines = 0;
  await must(debootstrapArgv(o.suite, root, o.mirror, o.cacheDir), 'debootstrap', {
    signal: o.signal,
    timeoutMs: 20 * 60_000,
    env: DEBOOTSTRAP_ENV,
    onLine: (l) => {
      if (!l.trim()) return;
      o.log(l);
      if (++lines % 10 === 0) o.progress(3 + Math.min(67, Math.round((67 * lines) / EXPECTED_LINES)), firstLine(l).slice(0, 80));
    },
  });
  o.progress(72, 'Configuring the guest');
  await writeGuestFiles(root);
  await must(['chroot', root, 'systemctl', 'enable', ...GUEST_ENABLE], 'systemctl enable', { signal: o.signal, timeoutMs: 60_000 });
  await must(['chroot', root, 'systemctl', 'mask', ...GUEST_MASK], 'systemctl mask', { signal: o.signal, timeoutMs: 60_000 });
  const kernels = (await fs.readdir(path.join(root, 'boot'))).filter((n) => n.startsWith('vmlinuz-'));
  if (kernels.length !== 1) throw new Error(`expected one kernel in the image's /boot, found ${kernels.length}`);
  const version = kernels[0].slice('vmlinuz-'.length);
  for (const rel of PRUNED_MODULES) await fs.rm(path.join(root, 'usr/lib/modules', version, rel), { recursive: true, force: true });
  await must(['chroot', root, 'depmod', '-a', version], 'depmod', { signal: o.signal, timeoutMs: 120_000 });
  o.progress(75, 'Making a small initramfs');
  // -u with the version makes it (debootstrap made none: DEBOOTSTRAP_ENV).
  await must(['chroot', root, 'update-initramfs', '-u', '-k', version], 'update-initramfs', { signal: o.signal, timeoutMs: 300_000 });
  for (const rel of GUEST_EMPTY_DIRS) await emptyDir(path.join(root, rel));
  o.log(`kernel ${version}; modules for hardware a VM never has removed`);

  await fs.copyFile(path.join(root, 'boot', `vmlinuz-${version}`), path.join(outDir, 'kernel'));
  await fs.copyFile(path.join(root, 'boot', `initrd.img-${version}`), path.join(outDir, 'initrd.img'));
  // Room for the first boot's logs and keys; machines grow the filesystem to their own disk size.
  const used = await duBytes(root);
  const sizeMib = Math.ceil((used * 1.25) / 2 ** 20 / 64) * 64 + 256;
  o.progress(80, `mkfs.ext4 -d (${sizeMib} MiB)`);
  const raw = path.join(outDir, 'disk.raw');
  await must(['mkfs.ext4', '-q', '-F', '-L', 'hangar-root', '-d', root, raw, `${sizeMib}M`], 'mkfs.ext4', { signal: o.signal });
  o.progress(90, 'Converting to qcow2');
  const disk = path.join(outDir, 'disk.qcow2');
  await must(['qemu-img', 'convert', '-q', '-O', 'qcow2', raw, disk], 'qemu-img convert', { signal: o.signal });
  await fs.rm(raw, { force: true });
  const sizes = await Promise.all(['kernel', 'initrd.img', 'disk.qcow2'].map((f) => fs.stat(path.join(outDir, f)).then((s) => s.blocks * 512)));
  o.log(`disk ${sizeMib} MiB (qcow2 ${(sizes[2] / 2 ** 20).toFixed(0)} MiB), root filesystem ${(used / 2 ** 20).toFixed(0)} MiB`);
  return {
    kernel: path.join(outDir, 'kernel'),
    initrd: path.join(outDir, 'initrd.img'),
    disk,
    sizeBytes: sizes.reduce((a, b) => a + b, 0) + used,
    kernelVersion: version,
  };
}

/**
 * The archive to bootstrap `suite` from: the setting, else HANGAR_DEBIAN_MIRROR, else the host's apt
 * source for that suite, else the host's source of another Debian release (one archive serves them all).
 */
export function debianMirror(setting: string, suite: string, hostSources: () => AptSource[] = readHostAptSources): string {
  const fixed = setting || process.env.HANGAR_DEBIAN_MIRROR;
  if (fixed) return fixed;
  const sources = hostSources();
  const m = mirrorFor(sources, suite) ?? DEBIAN_RELEASES.map((r) => mirrorFor(sources, r.suite)).find((x) => x !== null);
  if (!m) throw new Error(`No Debian mirror: the host's apt sources have no Debian release (${suite} or another); set one in Settings (Debian mirror).`);
  return m;
}

/**
 * The .deb cache of one suite: `<cache>/debootstrap/<suite>`. debootstrap downloads straight into
 * its cache dir with no lock, so two builds sharing one (debian-12 and debian-13 at once) could
 * write the same file together: one suite per dir, and one build per suite at a time (the image's
 * name is taken while it builds). A new suite dir starts with hard links to the .debs an older
 * Hangar kept in `<cache>/debootstrap` itself (a file's name has its version: a deb of another
 * suite is never taken by mistake), made in a temp dir renamed into place, so it is whole or absent.
 */
export async function suiteCacheDir(cache: string, suite: string): Promise<string> {
  const top = path.join(cache, 'debootstrap');
  const dir = path.join(top, suite);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  await fs.mkdir(tmp, { recursive: true });
  for (const name of await fs.readdir(top)) if (name.endsWith('.deb')) await fs.link(path.join(top, name), path.join(tmp, name)).catch(() => undefined);
  // Another build made it meanwhile: theirs stays.
  await fs.rename(tmp, dir).catch(() => fs.rm(tmp, { recursive: true, force: true }));
  return dir;
}

/** The recipe of a Debian release: a disk for VMs and a root filesystem for containers, from the configured mirror. */
export function debianRecipeFor(release: DebianRelease): ImageRecipe {
  return {
    kind: release.kind,
    recipe: debianRecipeFacts(release),
    legacyBoot: { append: DEBIAN_APPEND, ssh: true, diskBytes: 0 },
    async build(scratch, ctx) {
      const mirror = debianMirror(ctx.debianMirror, release.suite);
      const built = await buildDebianImage(scratch, {
        suite: release.suite,
        mirror,
        cacheDir: await suiteCacheDir(ctx.cache, release.suite),
        log: ctx.log,
        progress: ctx.progress,
        signal: ctx.signal,
      });
      const info = await run(['qemu-img', 'info', '--output=json', built.disk], { timeoutMs: 30_000 });
      const diskBytes = (JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'];
      return {
        sizeBytes: built.sizeBytes,
        boot: { append: DEBIAN_APPEND, ssh: true, diskBytes },
        facts: { kernel: built.kernelVersion, mirror, suite: release.suite, boot: 'bzimage+initrd' },
      };
    },
  };
}
