import type { MachineSpec } from '../types';
import { nspawnArgv } from './driver';

/**
 * The container as a systemd service of the host (like the nspawn seed's exported units):
 * the same command, layers and limits, started at boot. Not while Hangar runs it too.
 */
export function unitFile(m: MachineSpec): string {
  const rootfs = typeof m.runtime.rootfs === 'string' ? m.runtime.rootfs : '';
  // systemd's own syntax: % and $ double up, whitespace and quotes need a quoted word.
  const q = (a: string) => {
    const e = a.replace(/%/g, '%%').replace(/\$/g, '$$$$');
    return /^[\w@%$+=:,./-]+$/.test(e) ? e : `"${e.replace(/(["\\])/g, '\\$1')}"`;
  };
  return [
    `# ${m.name}: a Hangar container as a host service. Stop or destroy it in Hangar first:`,
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
    'KillMode=mixed',
    'Delegate=yes',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
