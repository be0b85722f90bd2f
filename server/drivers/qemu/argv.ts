import type { PortForward } from '@/lib/contracts/machines';
import { withCdrom, type CdromSpec } from './cdrom-argv';

export interface QemuSpec {
  name: string;
  dir: string;
  accel: 'kvm' | 'tcg';
  cpus: number;
  memoryMib: number;
  kernel: string;
  initrd: string;
  mac: string;
  ports: PortForward[];
  /** The image's kernel command line plus the machine's own parts (see driver.ts). */
  append: string;
  /** Loopback port forwarded to the guest's sshd, when the image has one. */
  sshPort: number | null;
  /** The machine's writable disk layer. */
  disk: string;
  /** Wait for a migration stream (restore or fork from a snapshot) instead of booting. */
  incoming?: boolean;
  /**
   * Guest RAM: the machine's own shared file (default), or a snapshot's RAM file mapped
   * privately (copy-on-write: forks share its unmodified pages, nothing is copied).
   */
  ram?: GuestRam;
  /**
   * A VGA device and QEMU's VNC server on a unix socket (the Display tab). False only to load a
   * live snapshot saved before machines had one: its device state has no VGA to load into.
   */
  display?: boolean;
  /** ISO installs: no kernel of its own, a CD-ROM drive, the boot order and firmware (see cdrom-argv.ts). */
  cdrom?: CdromSpec;
  /** Extra disks' arguments (disks-argv.ts). */
  extraDisks?: string[];
}

export interface GuestRam {
  path: string;
  shared: boolean;
}

/** Files a running machine keeps in its directory. */
export const machineFiles = (dir: string) => ({
  disk: `${dir}/disk.qcow2`,
  ram: `${dir}/ram`,
  serialSock: `${dir}/serial.sock`,
  serialLog: `${dir}/serial.log`,
  qmpSock: `${dir}/qmp.sock`,
  /** A second monitor for the stats sampler, so its queries never wait for (or hold up) a checkpoint on the first. */
  statsSock: `${dir}/qmp-stats.sock`,
  /** A third monitor for screenshots (screendump), apart from checkpoints and stats. */
  displayQmpSock: `${dir}/qmp-display.sock`,
  /** QEMU's VNC server: a unix socket only the server reaches (never a TCP port on the host). */
  vncSock: `${dir}/vnc.sock`,
  agentSock: `${dir}/agent.sock`,
  pid: `${dir}/qemu.pid`,
  sshKey: `${dir}/id_ed25519`,
  knownHost: `${dir}/ssh_host_key.sha256`,
});

/**
 * The qemu command line. Guest RAM is a file (shared: snapshots copy it sparsely; private:
 * a restored snapshot's RAM, mapped copy-on-write);
 * serial output is logged from process start whether or not anyone is attached; QEMU
 * daemonizes so machines outlive the Hangar server.
 */
export function qemuArgv(s: QemuSpec): string[] {
  const f = machineFiles(s.dir);
  const ram = s.ram ?? { path: f.ram, shared: true };
  const ports: PortForward[] = s.sshPort ? [...s.ports, { protocol: 'tcp', host: s.sshPort, guest: 22 }] : s.ports;
  const fwd = ports.map((p) => `,hostfwd=${p.protocol}:127.0.0.1:${p.host}-:${p.guest}`).join('');
  return withCdrom(s, [
    'qemu-system-x86_64',
    '-name',
    `hangar-${s.name}`,
    // One -accel only: QEMU ignores a second. tb-size bounds TCG's translation cache (~830 MB -> ~480 MB RSS).
    '-accel',
    s.accel === 'kvm' ? 'kvm' : 'tcg,tb-size=64',
    ...(s.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-smp',
    String(s.cpus),
    '-m',
    `${s.memoryMib}M`,
    '-object',
    `memory-backend-file,id=ram0,size=${s.memoryMib}M,mem-path=${ram.path},share=${ram.shared ? 'on' : 'off'}`,
    '-machine',
    'pc,memory-backend=ram0',
    '-kernel',
    s.kernel,
    '-initrd',
    s.initrd,
    '-append',
    s.append,
    '-drive',
    `file=${s.disk},if=virtio,format=qcow2`,
    ...(s.extraDisks ?? []),
    '-nic',
    `user,model=virtio-net-pci,mac=${s.mac}${fwd}`,
    '-chardev',
    `socket,id=ser0,path=${f.serialSock},server=on,wait=off,logfile=${f.serialLog},logappend=on`,
    '-serial',
    'chardev:ser0',
    // ttyS1: the guest agent's line (exec), kept off the console people type in.
    '-chardev',
    `socket,id=agent0,path=${f.agentSock},server=on,wait=off`,
    '-serial',
    'chardev:agent0',
    '-qmp',
    `unix:${f.qmpSock},server=on,wait=off`,
    '-qmp',
    `unix:${f.statsSock},server=on,wait=off`,
    '-display',
    'none',
    ...(s.display === false ? [] : displayArgv(f)),
    '-nodefaults',
    '-no-reboot',
    '-daemonize',
    '-pidfile',
    f.pid,
    ...(s.incoming ? ['-incoming', 'defer'] : []),
  ]);
}

/**
 * The screen: a standard VGA (text mode for the busybox and Debian guests, whose consoles stay on
 * the serial line) and VNC on a unix socket. force-shared: every viewer (several tabs, read-only
 * watchers, the bench) stays connected; QEMU's default would drop the others when one asks for
 * exclusive access. -display none still applies: no window, no SDL/GTK.
 */
function displayArgv(f: ReturnType<typeof machineFiles>): string[] {
  return ['-device', 'VGA', '-vnc', `unix:${f.vncSock},share=force-shared`, '-qmp', `unix:${f.displayQmpSock},server=on,wait=off`];
}
