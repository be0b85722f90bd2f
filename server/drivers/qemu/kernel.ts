import fs from 'node:fs/promises';
import path from 'node:path';
import { firstLine, run } from '../exec';

/**
 * Modules the busybox guest loads, in dependency order (the package has no modules.dep):
 * Debian builds the virtio core as modules, then net/disk/rng on top, and the ACPI button +
 * evdev so a powerdown request works.
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
];

export interface KernelFiles {
  version: string;
  vmlinuz: string;
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
  const files = { version, vmlinuz: path.join(dir, 'vmlinuz'), modules: path.join(dir, 'modules') };
  const exists = (p: string) => fs.stat(p).then(() => true, () => false);
  const cached = [files.vmlinuz, ...GUEST_MODULES.map((m) => path.join(files.modules, path.basename(m)))];
  if ((await Promise.all(cached.map(exists))).every(Boolean)) {
    log(`kernel ${version}: cached`);
    return files;
  }
  // An older Hangar cached fewer modules: fetch again.
  await fs.rm(dir, { recursive: true, force: true });
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
    const out = path.join(tmp, 'out');
    await fs.mkdir(path.join(out, 'modules'), { recursive: true });
    await fs.rename(path.join(tmp, 'boot', `vmlinuz-${version}`), path.join(out, 'vmlinuz'));
    for (const m of GUEST_MODULES) await fs.rename(path.join(tmp, 'lib', 'modules', version, m), path.join(out, 'modules', path.basename(m)));
    // Renamed into place whole: a crash mid-way leaves only a dot-dir, never a half kernel.
    await fs.rename(out, dir);
    log(`kernel ${version} ready`);
    return files;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
