import fs from 'node:fs';
import path from 'node:path';
import { writeBundle } from '../oci/bundle';
import type { MachineSpec } from '../types';
import { natPlan, NETWORKD_UNMANAGED, resolvConfMode, type NatPlan } from './network';
import { volumeBinds } from '../shared/volumes';
import { commandOf, networkOf, nspawnRuntime, stackOf, type NetworkMode } from './runtime';

/** The machine's own writable layer over the image's read-only root. */
export const containerDirs = (dir: string) => ({ upper: `${dir}/upper`, bundle: `${dir}/bundle` });

/** An OCI image's container starts from an empty upper dir, with its working directory made when the image has none. */
export function prepareOciUpper(upper: string, layers: string[], cwd: string): void {
  fs.rmSync(upper, { recursive: true, force: true });
  fs.mkdirSync(upper, { recursive: true, mode: 0o755 });
  const rel = path.posix.normalize(`/${cwd}`).slice(1);
  if (rel && !layers.some((l) => fs.existsSync(path.join(l, rel)))) fs.mkdirSync(path.join(upper, rel), { recursive: true, mode: 0o755 });
}

/** Container names: hostnames, from the machine name (already [a-z0-9-]). */
export const hostnameOf = (m: { name: string }) => m.name.slice(0, 63);

/**
 * A new writable layer: the machine's own files over the image, its hostname, root logged in
 * on the console (as on a VM's serial line), and the VM-only units (ttyS agent, disk growth) masked.
 */
export function prepareUpper(upper: string, hostname: string, network: NetworkMode = 'private'): void {
  fs.rmSync(upper, { recursive: true, force: true });
  if (network === 'nat') {
    fs.mkdirSync(path.join(upper, 'etc/systemd/network'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(upper, 'etc/systemd/network/10-hangar-host0.network'), NETWORKD_UNMANAGED);
  }
  fs.mkdirSync(path.join(upper, 'etc/systemd/system/console-getty.service.d'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(upper, 'etc/hostname'), `${hostname}\n`);
  fs.writeFileSync(
    path.join(upper, 'etc/systemd/system/console-getty.service.d/autologin.conf'),
    '[Service]\nExecStart=\nExecStart=-/sbin/agetty --noclear --autologin root --keep-baud console 115200,38400,9600 $TERM\n',
  );
  // On the host's network the image's sshd would take the host's port 22, and networkd would manage host links;
  // on a loopback-only network nobody could reach sshd (shells go through nsenter), so it is not started either.
  const ssh = ['ssh.service', 'ssh.socket'];
  const networkd = ['systemd-networkd.service', 'systemd-networkd.socket', 'systemd-networkd-wait-online.service'];
  const masked = [
    'hangar-agent.service',
    'hangar-init.service',
    'hangar-ready.service',
    ...(network === 'host' ? [...ssh, ...networkd] : network === 'private' ? ssh : []),
  ];
  for (const unit of masked) fs.symlinkSync('/dev/null', path.join(upper, 'etc/systemd/system', unit));
}

/** The NAT plan of a machine on the `nat` network (its leased subnet), else null. */
export const natOf = (m: MachineSpec): NatPlan | null => {
  const rt = nspawnRuntime(m.runtime);
  return networkOf(rt) === 'nat' && typeof rt.netIndex === 'number' ? natPlan(m.id, rt.netIndex) : null;
};

/**
 * The systemd-nspawn command of a container on an overlay of the image's read-only root and the
 * machine's own upper dir (no copy per container), private network unless asked, without
 * machined or dbus (`--register=no --keep-unit`). An OS container boots systemd (`--boot`); an
 * application container runs its command under nspawn's stub init (`--as-pid2`: signals and
 * orphans handled), and `pipe` hands it the caller's stdin, stdout and stderr instead of a pty.
 */
export function nspawnArgv(m: MachineSpec, rootfs: string, opts: { pipe?: boolean } = {}): string[] {
  const d = containerDirs(m.dir);
  const rt = nspawnRuntime(m.runtime);
  const mode = networkOf(rt);
  const nat = natOf(m);
  const net = mode === 'host' ? [] : nat ? [`--network-veth-extra=${nat.hostIf}:host0`, `--resolv-conf=${resolvConfMode()}`] : ['--private-network'];
  let command = commandOf(m);
  // An OCI image's process (user, env, cwd) goes in through a bundle: nspawn's --user would need getent in the image.
  if (rt.oci && command) writeBundle(d.bundle, { shim: rootfs, hostname: hostnameOf(m), process: rt.oci, argv: command, ownNetwork: mode !== 'host' });
  // An application container's command waits (up to 10 s) for Hangar to give host0 its address and route.
  if (command && nat)
    command = [
      '/bin/sh',
      '-c',
      'i=0; while ! grep -q "^host0[[:space:]]00000000" /proc/net/route && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; exec "$@"',
      'hangar-wait-net',
      ...command,
    ];
  return [
    'systemd-nspawn',
    '--quiet',
    ...(command ? ['--as-pid2'] : ['--boot']),
    '--register=no',
    '--keep-unit',
    ...net,
    ...(opts.pipe ? ['--console=pipe'] : []),
    ...(rt.oci ? [`--oci-bundle=${d.bundle}`] : []),
    `--machine=${hostnameOf(m)}`,
    `--hostname=${hostnameOf(m)}`,
    // Lowest first: the image root (an OCI image's: an empty shim, then its layers), then the frozen layers of the snapshots it descends from.
    ...volumeBinds(m).map((v) => `--bind=${v.host}:${v.guest}`),
    `--directory=${rootfs}`,
    `--overlay=${[rootfs, ...stackOf(m)].join(':')}:${d.upper}:/`,
    ...(command ? ['--', ...command] : []),
  ];
}
