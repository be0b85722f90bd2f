import type { NodeStatus } from '@/db/repo/nodes';
import type { NodeUsage } from '@/lib/contracts/nodes';
import type { HostService } from '../host';
import type { DriverRegistry } from '@/server/drivers/types';

/**
 * What this node writes with each heartbeat: the host probe's capabilities and size, once the
 * probe has answered, and its CPU, memory and disk use when a sampler is given (the Nodes page).
 */
export function nodeStatus(
  host: Pick<HostService, 'known'> | null,
  usage?: () => NodeUsage | null,
  drivers?: Pick<DriverRegistry, 'all'>,
): Partial<NodeStatus> {
  const info = host?.known();
  const now = usage?.();
  // The drivers whose description says this host runs them (placement reads them: a machine goes where its driver runs).
  const runs =
    info && drivers
      ? drivers
          .all()
          .filter((d) => d.describe(info).available)
          .map((d) => d.kind)
      : null;
  return {
    ...(info ? { capabilitiesJson: JSON.stringify(info), cpus: info.cpus, memoryMib: info.memoryMib } : {}),
    ...(runs ? { driversJson: JSON.stringify(runs) } : {}),
    ...(now ? { usageJson: JSON.stringify(now) } : {}),
  };
}
