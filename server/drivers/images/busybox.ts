import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { firstLine, run } from '../exec';
import type { ImageRecipe } from '../types';
import { AGENT_SCRIPT } from './guest-agent';
import { writeCpio, type CpioEntry } from './cpio';
import { ensureKernel, GUEST_MODULES, type KernelFiles } from './kernel';

/** The guest's /init: mounts, modules, hostname from the kernel command line, DHCP, ACPI power button, then a shell on the console. */
const INIT = `#!/bin/sh
export PATH=/bin:/sbin HOME=/root
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
# In dependency order; a second pass catches any that came before what they need.
for pass in 1 2; do for m in $(cat /lib/modules/order); do grep -q "^\${m%.ko} " /proc/modules || insmod /lib/modules/$m 2>/dev/null; done; done
hostname hangar
for arg in $(cat /proc/cmdline); do
  case "$arg" in hangar.hostname=*) hostname "\${arg#hangar.hostname=}" ;; esac
done
ip link set lo up
if ip link show eth0 >/dev/null 2>&1; then
  ip link set eth0 up
  udhcpc -i eth0 -q -n -t 5 -s /etc/udhcpc.script >/dev/null 2>&1
fi
# Guest agent on ttyS1 (exec): see agent.ts. Ready only once it listens, or the first exec
# after a boot could be written to a line nobody reads yet (and wait for its whole timeout).
if [ -e /dev/ttyS1 ]; then
  rm -f /tmp/.hangar-agent-ready
  /bin/hangar-agent &
  i=0; while [ ! -e /tmp/.hangar-agent-ready ] && [ $i -lt 100 ]; do usleep 20000; i=$((i+1)); done
fi
# ACPI shutdown: the power button event powers the guest off cleanly.
acpid -c /etc/acpi -d >/dev/null 2>&1 &
echo "hangar-ready $(hostname)"
while true; do setsid cttyhack sh -l; done
`;

const UDHCPC = `#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "\${router%% *}"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
`;

const PROFILE = `export PS1='\\h:\\w# '
export PATH=/bin:/sbin
`;

/** The busybox image's kernel command line (its init reads hangar.hostname). */
export const BUSYBOX_APPEND = 'console=ttyS0 panic=-1';

export const BUSYBOX_RECIPE = {
  kind: 'busybox',
  busybox: '/bin/busybox (busybox-static)',
  init: 'hangar-init v5 (agent on ttyS1 that stops a command on request, SCSI modules)',
} as const;

export interface ImageFiles {
  kernel: string;
  initrd: string;
  disk: string;
  sizeBytes: number;
}

/**
 * The `busybox` image: Debian's kernel plus an initramfs holding the static busybox and a tiny
 * init, and an empty qcow2 disk machines put their overlays on. Built as plain files: no root.
 */
export async function buildBusyboxImage(outDir: string, kernel: KernelFiles, log: (l: string) => void): Promise<ImageFiles> {
  const busybox = await fs.readFile('/bin/busybox').catch(() => {
    throw new Error('/bin/busybox is missing: apt-get install busybox-static');
  });
  const entries: CpioEntry[] = ['bin', 'sbin', 'etc', 'etc/acpi', 'etc/acpi/PWRF', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'lib', 'lib/modules', 'mnt'].map(
    (d) => ({ kind: 'dir' as const, path: d }),
  );
  entries.push(
    { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: Buffer.from(INIT), mode: 0o755 },
    { kind: 'file', path: 'bin/hangar-agent', data: Buffer.from(AGENT_SCRIPT), mode: 0o755 },
    { kind: 'file', path: 'etc/udhcpc.script', data: Buffer.from(UDHCPC), mode: 0o755 },
    { kind: 'file', path: 'etc/profile', data: Buffer.from(PROFILE) },
    { kind: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
    { kind: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\n') },
    { kind: 'file', path: 'etc/acpi/PWRF/00000080', data: Buffer.from('#!/bin/sh\npoweroff -f\n'), mode: 0o755 },
  );
  const order = GUEST_MODULES.map((m) => path.basename(m));
  for (const m of order) entries.push({ kind: 'file', path: `lib/modules/${m}`, data: await fs.readFile(path.join(kernel.modules, m)) });
  entries.push({ kind: 'file', path: 'lib/modules/order', data: Buffer.from(order.join('\n') + '\n') });
  await fs.mkdir(outDir, { recursive: true });
  const initrd = path.join(outDir, 'initrd.img');
  await fs.writeFile(initrd, gzipSync(writeCpio(entries), { level: 6 }));
  log(`initramfs: ${entries.length} entries`);
  const vmlinuz = path.join(outDir, 'kernel');
  await fs.copyFile(kernel.vmlinux ?? kernel.vmlinuz, vmlinuz);
  log(kernel.vmlinux ? 'kernel: uncompressed, PVH direct boot' : 'kernel: compressed bzImage');
  const disk = path.join(outDir, 'disk.qcow2');
  const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '1G'], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
  const sizes = await Promise.all([initrd, vmlinuz, disk].map((f) => fs.stat(f).then((s) => s.blocks * 512)));
  return { kernel: vmlinuz, initrd, disk, sizeBytes: sizes.reduce((a, b) => a + b, 0) };
}

/** The busybox recipe: seconds to build, seconds to boot (VMs only: it keeps no root filesystem). */
export const busyboxRecipe: ImageRecipe = {
  kind: 'busybox',
  recipe: BUSYBOX_RECIPE,
  legacyBoot: { append: BUSYBOX_APPEND, ssh: false, diskBytes: 0 },
  async build(scratch, ctx) {
    ctx.progress(5, 'Fetching the guest kernel');
    const kernel = await ensureKernel(ctx.kernels, ctx.log, ctx.signal);
    ctx.progress(60, 'Writing the initramfs');
    const built = await buildBusyboxImage(scratch, kernel, ctx.log);
    return {
      sizeBytes: built.sizeBytes,
      boot: { append: BUSYBOX_APPEND, ssh: false, diskBytes: 0 },
      facts: { kernel: kernel.version, boot: kernel.vmlinux ? 'pvh' : 'bzimage' },
    };
  },
};
