import fs from 'node:fs/promises';
import path from 'node:path';
import { AGENT_SCRIPT } from './guest-agent';

/**
 * What Hangar adds to a debootstrapped Debian so it works as a machine: per-boot hostname
 * and root SSH key from the kernel command line, DHCP on the virtio NIC, a ready marker on
 * the serial console once SSH listens, the exec agent on ttyS1, and host keys and a
 * machine-id made per machine at first boot instead of baked into the image.
 */
const INIT = `#!/bin/sh
# Per-boot set-up from the kernel command line Hangar passes: hostname and root's SSH key.
name= key=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    hangar.hostname=*) name="\${arg#hangar.hostname=}" ;;
    hangar.sshkey=*) key="\${arg#hangar.sshkey=}" ;;
  esac
done
if [ -n "$name" ]; then
  echo "$name" > /etc/hostname
  hostname "$name"
  sed -i "s/^127\\.0\\.1\\.1[[:space:]].*/127.0.1.1 $name/" /etc/hosts
fi
if [ -n "$key" ]; then
  line=$(echo "$key" | base64 -d)
  install -d -m 700 /root/.ssh
  touch /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
  grep -qxF "$line" /root/.ssh/authorized_keys || echo "$line" >> /root/.ssh/authorized_keys
fi
# The machine's disk may be larger than the image: grow the root filesystem to fill it.
resize2fs "$(findmnt -no SOURCE /)" >/dev/null 2>&1 &
exit 0
`;

const unit = (sections: Record<string, string[]>) =>
  Object.entries(sections)
    .map(([name, lines]) => `[${name}]\n${lines.join('\n')}\n`)
    .join('\n');

export const GUEST_FILES: Record<string, { text: string; mode?: number }> = {
  'usr/local/sbin/hangar-init': { text: INIT, mode: 0o755 },
  'usr/local/sbin/hangar-agent': { text: AGENT_SCRIPT, mode: 0o755 },
  'etc/systemd/system/hangar-init.service': {
    text: unit({
      Unit: ['Description=Hangar per-boot set-up (hostname, root SSH key, disk size)', 'After=local-fs.target', 'Before=ssh.service'],
      Service: ['Type=oneshot', 'RemainAfterExit=yes', 'ExecStart=/usr/local/sbin/hangar-init'],
      Install: ['WantedBy=multi-user.target'],
    }),
  },
  'etc/systemd/system/hangar-agent.service': {
    text: unit({
      Unit: ['Description=Hangar guest agent on ttyS1 (exec, fix-ups after restore)', 'After=systemd-udevd.service'],
      Service: ['ExecStart=/usr/local/sbin/hangar-agent', 'Restart=always', 'RestartSec=1'],
      Install: ['WantedBy=multi-user.target'],
    }),
  },
  'etc/systemd/system/hangar-ready.service': {
    text: unit({
      Unit: [
        'Description=Tell Hangar the machine is up (SSH listening, network configured)',
        'After=ssh.service hangar-init.service systemd-networkd-wait-online.service',
        'Wants=systemd-networkd-wait-online.service',
      ],
      Service: ['Type=oneshot', 'ExecStart=/bin/sh -c \'echo "hangar-ready $(hostname)" > /dev/ttyS0\''],
      Install: ['WantedBy=multi-user.target'],
    }),
  },
  // Host keys are made at the machine's first boot (ed25519 only: RSA takes seconds under TCG).
  'etc/systemd/system/ssh.service.d/hangar.conf': {
    text: unit({
      Service: [
        'ExecStartPre=',
        'ExecStartPre=/bin/sh -c \'test -s /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key\'',
        'ExecStartPre=/usr/sbin/sshd -t',
      ],
    }),
  },
  'etc/ssh/sshd_config.d/hangar.conf': {
    text: 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n',
  },
  // The serial console logs in as root: reaching it already took a Hangar operator's login.
  'etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf': {
    text: unit({ Service: ['ExecStart=', 'ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM'] }),
  },
  'etc/systemd/network/80-hangar.network': { text: unit({ Match: ['Name=en* eth*'], Network: ['DHCP=ipv4'] }) },
  // A small initramfs: only what a virtio machine needs to mount its root (MODULES=most takes seconds more to unpack under TCG).
  'etc/initramfs-tools/conf.d/hangar.conf': { text: 'MODULES=list\nCOMPRESS=gzip\n' },
  'etc/initramfs-tools/modules': { text: ['virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_console', 'ext4', 'crc32c_generic'].join('\n') + '\n' },
  'etc/resolv.conf': { text: 'nameserver 10.0.2.3\n' },
  'etc/fstab': { text: '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' },
  'etc/hostname': { text: 'debian\n' },
  'etc/hosts': { text: '127.0.0.1 localhost\n127.0.1.1 debian\n::1 localhost ip6-localhost ip6-loopback\n' },
};

/** Services to enable, and timers that only cost a disposable machine time and network. */
export const GUEST_ENABLE = ['systemd-networkd', 'hangar-init', 'hangar-agent', 'hangar-ready'];
export const GUEST_MASK = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer'];

/** Kernel module trees a virtual machine never loads (real GPUs, Wi-Fi, sound...): most of the image's size. */
export const PRUNED_MODULES = [
  'kernel/sound',
  'kernel/drivers/gpu',
  'kernel/drivers/media',
  'kernel/drivers/net/wireless',
  'kernel/drivers/net/ethernet',
  'kernel/drivers/infiniband',
  'kernel/drivers/staging',
  'kernel/drivers/bluetooth',
  'kernel/drivers/isdn',
  'kernel/drivers/iio',
  'kernel/drivers/usb',
  'kernel/drivers/hid',
  'kernel/drivers/input/touchscreen',
  'kernel/net/wireless',
  'kernel/net/mac80211',
  'kernel/net/bluetooth',
];

/** Per-image leftovers that must not be shared by every machine, and caches nobody needs. */
export const GUEST_REMOVE = [
  'etc/ssh/ssh_host_rsa_key',
  'etc/ssh/ssh_host_rsa_key.pub',
  'etc/ssh/ssh_host_ecdsa_key',
  'etc/ssh/ssh_host_ecdsa_key.pub',
  'etc/ssh/ssh_host_ed25519_key',
  'etc/ssh/ssh_host_ed25519_key.pub',
  'var/lib/dbus/machine-id',
];
export const GUEST_EMPTY_DIRS = ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/locale'];

/** Write Hangar's files into a root filesystem. */
export async function writeGuestFiles(root: string): Promise<void> {
  for (const [rel, f] of Object.entries(GUEST_FILES)) {
    const p = path.join(root, rel);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.rm(p, { force: true });
    await fs.writeFile(p, f.text, { mode: f.mode ?? 0o644 });
  }
  for (const rel of GUEST_REMOVE) await fs.rm(path.join(root, rel), { force: true });
  // Empty, not absent: systemd makes a fresh machine-id at each machine's first boot.
  await fs.writeFile(path.join(root, 'etc/machine-id'), '');
}
