import fs from 'node:fs/promises';
import path from 'node:path';
import { firstLine, run } from '../exec';

/**
 * Modules the busybox guest loads, in dependency order (the package has no modules.dep):
 * Debian builds the virtio core as modules, then net/disk/rng on top, and the ACPI button +
 * evdev so a powerdown request works. Then SCSI (virtio_scsi and sd_mod, with the CRC modules
 * sd_mod's data-integrity code needs, their crypto softdeps first) so an extra disk on the
 * virtio-scsi bus, hot-plugged too, shows up as /dev/sdX.
 */
export const GUEST_MODULES = [
  'kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/virtio/virtio.ko',
  'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
  'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
  'kernel/drivers/virtio/virtio_pci.ko',
  'kernel/net/core/failover.ko',
  'kernel/drivers/net/net_failover.ko',
  'kernel/drivers/net/virtio_net.ko',
  'kernel/drivers/block/virtio_blk.ko',
  'kernel/drivers/char/hw_random/virtio-rng.ko',
  'kernel/drivers/input/evdev.ko',
  'kernel/drivers/acpi/button.ko',
  'kernel/drivers/scsi/scsi_common.ko',
  'kernel/drivers/scsi/scsi_mod.ko',
  'kernel/drivers/scsi/virtio_scsi.ko',
  'kernel/crypto/crct10dif_common.ko',
  'kernel/crypto/crct10dif_generic.ko',
  'kernel/lib/crc-t10dif.ko',
  'kernel/lib/crc64.ko',
  'kernel/crypto/crc64_rocksoft_generic.ko',
  'kernel/lib/crc64-rocksoft.ko',
  'kernel/block/t10-pi.ko',
  'kernel/drivers/scsi/sd_mod.ko',
];

export interface KernelFiles {
  version: string;
  vmlinuz: string;
  /** The uncompressed ELF kernel with a PVH entry, when it could be made: boots in half the time under TCG. */
  vmlinux: string | null;
  /** Directory holding the GUEST_MODULES by base name (virtio_net.ko, ...). */
  modules: string;
}

type Log = (line: string) => void;

async function must(argv: string[], what: string, opts: Parameters<typeof run>[1] = {}) {
  const r = await run(argv, { timeoutMs: 600_000, ...opts });
  if (r.code !== 0) throw new Error(`${what} failed (${argv.join(' ')}): ${firstLine(r.stderr) || `exit ${r.code}`}`);
  return r;
}

/**
 * A guest kernel from Debian's linux-image-amd64, extracted (not installed on the host) into
 * `kernelsDir/<version>/`. apt fetches it from the host's configured mirror. Cached: a
 * second call finds it and returns at once.
 */
export async function ensureKernel(kernelsDir: string, log: Log, signal?: AbortSignal): Promise<KernelFiles> {
  const deps = await must(['apt-cache', 'depends', 'linux-image-amd64'], 'apt-cache depends');
  const pkg = /Depends: (linux-image-[0-9][^\s]*)/.exec(deps.stdout)?.[1];
  if (!pkg) throw new Error('Cannot find the kernel package behind linux-image-amd64: run apt-get update.');
  const version = pkg.replace(/^linux-image-/, '');
  const dir = path.join(kernelsDir, version);
  const vmlinux = path.join(dir, 'vmlinux');
  const files = { version, vmlinuz: path.join(dir, 'vmlinuz'), vmlinux: null as string | null, modules: path.join(dir, 'modules') };
  const exists = (p: string) =>
    fs.stat(p).then(
      () => true,
      () => false,
    );
  const cached = [files.vmlinuz, ...GUEST_MODULES.map((m) => path.join(files.modules, path.basename(m)))];
  if ((await Promise.all(cached.map(exists))).every(Boolean)) {
    log(`kernel ${version}: cached`);
    return { ...files, vmlinux: (await exists(vmlinux)) ? vmlinux : null };
  }
  // An older Hangar cached fewer modules: fetch again, and add what is missing next to what is
  // there (never removed: another server sharing the cache may be reading it right now).
  const had = await exists(files.vmlinuz);
  await fs.mkdir(kernelsDir, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(kernelsDir, `.${version}-`));
  try {
    log(`downloading ${pkg} with apt (host mirror)`);
    await must(['apt-get', 'download', '-q', pkg], 'apt-get download', { cwd: tmp, signal });
    const deb = (await fs.readdir(tmp)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download produced no .deb');
    log(`extracting vmlinuz and ${GUEST_MODULES.length} modules`);
    const tar = path.join(tmp, 'fs.tar');
    await must(['dpkg-deb', '--fsys-tarfile', path.join(tmp, deb)], 'dpkg-deb', { stdoutFile: tar, signal });
    const wanted = [`./boot/vmlinuz-${version}`, ...GUEST_MODULES.map((m) => `./lib/modules/${version}/${m}`)];
    await must(['tar', '-xf', tar, '-C', tmp, ...wanted], 'tar', { signal });
    if (had) {
      // Each file renamed into place whole: a reader sees a module or none, never half of one.
      for (const m of GUEST_MODULES) {
        const to = path.join(files.modules, path.basename(m));
        if (!(await exists(to))) await fs.rename(path.join(tmp, 'lib', 'modules', version, m), to);
      }
      log(`kernel ${version}: missing modules added`);
      return { ...files, vmlinux: (await exists(vmlinux)) ? vmlinux : null };
    }
    const out = path.join(tmp, 'out');
    await fs.mkdir(path.join(out, 'modules'), { recursive: true });
    await fs.rename(path.join(tmp, 'boot', `vmlinuz-${version}`), path.join(out, 'vmlinuz'));
    for (const m of GUEST_MODULES) await fs.rename(path.join(tmp, 'lib', 'modules', version, m), path.join(out, 'modules', path.basename(m)));
    const made = await uncompressedKernel(path.join(out, 'vmlinuz'), path.join(out, 'vmlinux'));
    log(made ? 'uncompressed kernel with a PVH entry: direct boot' : 'no PVH kernel could be made: booting the compressed kernel');
    // Renamed into place whole: a crash mid-way leaves only a dot-dir, never a half kernel.
    // Another server sharing the cache (HANGAR_CACHE) may have put the same kernel there first: use it.
    await fs.rename(out, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!['ENOTEMPTY', 'EEXIST'].includes(err.code ?? '') || !(await Promise.all(cached.map(exists))).every(Boolean)) throw err;
      log(`kernel ${version}: made meanwhile by another build`);
    });
    log(`kernel ${version} ready`);
    return { ...files, vmlinux: (await exists(vmlinux)) ? vmlinux : null };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/**
 * Under TCG a quarter of a busybox boot is the kernel decompressing itself. QEMU can instead
 * start an ELF vmlinux at its PVH entry point (Xen note 18, which Debian's kernel has).
 * Returns false, leaving nothing behind, when the payload is not xz or the note is missing.
 */
export async function uncompressedKernel(bzImage: string, out: string): Promise<boolean> {
  const data = await fs.readFile(bzImage);
  const at = data.indexOf(XZ_MAGIC);
  if (at < 0) return false;
  // xz stops at the end of its stream; bytes after it in the bzImage are ignored with --single-stream.
  const r = await run(['xz', '-dc', '--single-stream'], { input: data.subarray(at), stdoutFile: out, timeoutMs: 60_000 });
  const elf = r.code === 0 ? await fs.readFile(out) : Buffer.alloc(0);
  if (elf.subarray(0, 4).toString('latin1') === '\x7fELF' && hasPvhNote(elf)) return true;
  await fs.rm(out, { force: true });
  return false;
}

/** An ELF note: namesz=4, descsz, type=18 (XEN_ELFNOTE_PHYS32_ENTRY), name "Xen\0". */
export function hasPvhNote(elf: Buffer): boolean {
  const name = Buffer.from('Xen\0', 'latin1');
  for (let i = elf.indexOf(name); i >= 12; i = elf.indexOf(name, i + 1)) {
    if (elf.readUInt32LE(i - 12) === 4 && elf.readUInt32LE(i - 4) === 18) return true;
  }
  return false;
}
