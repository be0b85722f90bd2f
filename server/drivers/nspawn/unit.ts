import type { MachineSpec } from '../types';
import { natOf, nspawnArgv } from './argv';
import { masqueradeRule, type NatPlan } from './network';
import { nspawnRuntime } from './runtime';

const shWord = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** What Hangar does for a NAT container at start (see setUpNat), as shell for ExecStartPost. */
function natScript(n: NatPlan): string {
  const inside = [
    'ip link set lo up',
    `ip addr replace ${n.guestAddr}/30 dev host0`,
    'ip link set host0 up',
    `ip route replace default via ${n.hostAddr}`,
  ].join('; ');
  return [
    `for i in $(seq 100); do [ -e /sys/class/net/${n.hostIf} ] && break; sleep 0.1; done`,
    `ip addr replace ${n.hostAddr}/30 dev ${n.hostIf}`,
    `ip link set ${n.hostIf} up`,
    'init=$(cut -d" " -f1 /proc/$MAINPID/task/$MAINPID/children)',
    `nsenter -t "$init" -n sh -c '${inside}'`,
    'echo 1 > /proc/sys/net/ipv4/ip_forward',
    `${masqueradeRule(n, '-C').map(shWord).join(' ')} 2>/dev/null || ${masqueradeRule(n, '-A').map(shWord).join(' ')}`,
  ].join('; ');
}

/**
 * The container as a systemd service of the host (like the nspawn seed's exported units):
 * the same command, layers and limits, started at boot. Not while Hangar runs it too.
 */
export function unitFile(m: MachineSpec): string {
  const rootfs = nspawnRuntime(m.runtime).rootfs ?? '';
  const nat = natOf(m);
  // systemd's own syntax: % and $ double up, whitespace and quotes need a quoted word.
  const q = (a: string) => {
    const e = a.replace(/%/g, '%%').replace(/\$/g, '$$$$');
    return /^[\w@%$+=:,./-]+$/.test(e) ? e : `"${e.replace(/(["\\])/g, '\\$1')}"`;
  };
  return [
    `# ${m.name}: a Hangar container as a host service. Stop or destroy it in Hangar first:`,
    ...(nat && m.ports.length
      ? [`# (its port forwards, ${m.ports.map((p) => `127.0.0.1:${p.host} -> ${p.guest}`).join(', ')}, are Hangar's and not part of this unit)`]
      : []),
    '# both must never run it at once. Install: copy to /etc/systemd/system/, then',
    `#   systemctl daemon-reload && systemctl enable --now hangar-${m.name}.service`,
    '[Unit]',
    `Description=Hangar container ${m.name}`,
    'After=network.target',
    '',
    '[Service]',
    'Environment=SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1',
    // Limits belong to the service (nspawn's --property applies only to a scope of its own).
    `MemoryMax=${m.memoryMib}M`,
    `CPUQuota=${m.cpus * 100}%`,
    `ExecStart=${nspawnArgv(m, rootfs).map(q).join(' ')}`,
    ...(nat ? [`ExecStartPost=/bin/sh -c ${q(natScript(nat))}`, `ExecStopPost=-${masqueradeRule(nat, '-D').map(q).join(' ')}`] : []),
    'KillMode=mixed',
    'Delegate=yes',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
