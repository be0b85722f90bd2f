import type { NodeStatus } from '@/db/repo/nodes';
import type { HostService } from '../host';

/** What this node writes with each heartbeat: the host probe's capabilities and size, once the probe has answered. */
export function nodeStatus(host: Pick<HostService, 'known'> | null): Partial<NodeStatus> {
  const info = host?.known();
  if (!info) return {};
  return { capabilitiesJson: JSON.stringify(info), cpus: info.cpus, memoryMib: info.memoryMib };
}
