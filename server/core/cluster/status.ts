import type { NodeStatus } from '@/db/repo/nodes';
import type { NodeUsage } from '@/lib/contracts/nodes';
import type { HostService } from '../host';

/**
 * What this node writes with each heartbeat: the host probe's capabilities and size, once the
 * probe has answered, and its CPU, memory and disk use when a sampler is given (the Nodes page).
 */
export function nodeStatus(host: Pick<HostService, 'known'> | null, usage?: () => NodeUsage | null): Partial<NodeStatus> {
  const info = host?.known();
  const now = usage?.();
  return {
    ...(info ? { capabilitiesJson: JSON.stringify(info), cpus: info.cpus, memoryMib: info.memoryMib } : {}),
    ...(now ? { usageJson: JSON.stringify(now) } : {}),
  };
}
