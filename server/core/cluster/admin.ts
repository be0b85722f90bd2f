import type { Store } from '@/db/client';
import { deleteNode, findNodeByName, listNodes, setNodeState } from '@/db/repo/nodes';
import { machineCountsByNode } from '@/db/repo/machines';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { ConflictError, NotFoundError } from '../errors';
import type { EventBus } from '../events';
import type { Cluster } from './cluster';
import { OFFLINE_MS, toClusterNode } from './nodes';

/** What an admin does to nodes: drain (no new machines), undrain, remove (refused while it is online or owns machines). */
export class NodeAdmin {
  constructor(
    private readonly store: Store,
    private readonly cluster: Cluster,
    private readonly bus: EventBus,
  ) {}

  private async find(name: string) {
    const { nodes } = this.cluster.enabled ? await listNodes(this.store) : { nodes: [] };
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new NotFoundError(`Node ${name}`);
    return { row: n, view: toClusterNode(n, this.cluster.self.id), first: nodes[0].id === n.id };
  }

  async setDraining(name: string, draining: boolean): Promise<ClusterNode> {
    const { row } = await this.find(name);
    await setNodeState(this.store, row.id, draining ? 'draining' : 'active');
    const view = toClusterNode({ ...row, state: draining ? 'draining' : 'active' }, this.cluster.self.id);
    this.bus.publish('node:update', view);
    return view;
  }

  async remove(name: string): Promise<void> {
    const { row, view, first } = await this.find(name);
    if (view.self) throw new ConflictError(`Node ${name} is the node you are talking to: remove it from another node.`);
    if (row.ageMs < OFFLINE_MS)
      throw new ConflictError(`Node ${name} is online: stop its server first (it would keep running without a place in the cluster).`);
    // Rows older than the cluster (no node) are the founder's, the first row.
    const counts = await machineCountsByNode(this.store);
    const machines = (counts.get(row.id) ?? 0) + (first ? (counts.get(null) ?? 0) : 0);
    if (machines > 0) throw new ConflictError(`Node ${name} owns ${machines} machine(s): destroy or move them first.`);
    if (!(await findNodeByName(this.store, name))) throw new NotFoundError(`Node ${name}`);
    await deleteNode(this.store, row.id);
    this.bus.publish('node:update', { ...view, online: false, removed: true });
  }
}
