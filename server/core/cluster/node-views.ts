import { machineCountsByNode } from '@/db/repo/machines';
import { listNodes } from '@/db/repo/nodes';
import { listOpenJoinTokens } from '@/db/repo/join-tokens';
import type { ClusterNode, NodeUsage, OpenJoinToken } from '@/lib/contracts/nodes';
import type { Core } from '../hangar';
import { toClusterNode } from './nodes';
import { parseNodeUsage, usageSampler } from './node-usage';
import { defaultNodeName } from './start';

type ViewCore = Pick<Core, 'store' | 'cluster' | 'host' | 'version' | 'startedAt' | 'layout' | 'drivers'>;

/** One sampler per data dir: on one node the page's refetches measure the CPU between them. */
const samplers = new Map<string, () => NodeUsage | null>();
const CPU_WINDOW_MS = 250;

async function soloUsage(dataDir: string): Promise<NodeUsage | null> {
  let sample = samplers.get(dataDir);
  if (!sample) {
    sample = usageSampler(dataDir);
    samplers.set(dataDir, sample);
    // The first look has no earlier CPU reading: take one a moment apart.
    await new Promise((r) => setTimeout(r, CPU_WINDOW_MS));
  }
  return sample();
}

/**
 * The nodes as the Nodes page shows them. A cluster: every row with its last heartbeat's usage.
 * One node (SQLite): this host as the one node, like a one-node Proxmox datacenter, with its
 * probe's capabilities and its use measured now.
 */
export async function nodeViews(core: ViewCore, origin: string): Promise<ClusterNode[]> {
  const counts = await machineCountsByNode(core.store);
  if (!core.cluster.enabled) {
    const machines = [...counts.values()].reduce((a, b) => a + b, 0);
    const info = core.host.known() ?? (await core.host.info());
    const usage = await soloUsage(core.layout.root);
    return [
      {
        id: core.cluster.self.id,
        name: defaultNodeName(),
        internalUrl: origin,
        version: core.version,
        state: 'active',
        online: true,
        heartbeatAgeMs: 0,
        capabilities: info.capabilities.filter((c) => c.available).map((c) => c.name),
        drivers: core.drivers
          .all()
          .filter((d) => d.describe(info).available)
          .map((d) => d.kind),
        cpus: info.cpus,
        memoryMib: info.memoryMib,
        joinedAt: core.startedAt,
        self: true,
        usage,
        machines,
      },
    ];
  }
  const { nodes } = await listNodes(core.store);
  // Rows older than the cluster (no node) are the founder's, the first row, until it claims them at its next start.
  const owned = (id: string, i: number) => (counts.get(id) ?? 0) + (i === 0 ? (counts.get(null) ?? 0) : 0);
  return nodes.map((row, i) => ({ ...toClusterNode(row, core.cluster.self.id), usage: parseNodeUsage(row.usageJson), machines: owned(row.id, i) }));
}

/** Join tokens that may still be used; none on one node (a join needs PostgreSQL). */
export async function openJoinTokens(core: Pick<Core, 'store' | 'cluster'>): Promise<OpenJoinToken[]> {
  if (!core.cluster.join) return [];
  return (await listOpenJoinTokens(core.store)).map((t) => ({ id: t.id, createdBy: t.createdBy, createdAt: t.createdAt, expiresAt: t.expiresAt }));
}
