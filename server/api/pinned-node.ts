import type { Core } from '@/server/core/hangar';
import { defaultNodeName } from '@/server/core/cluster/start';
import { NotFoundError } from '@/server/core/errors';

/**
 * A body's `node` (where a machine is to run), checked where the request landed: in a cluster the
 * guard sent it to the node it names (route.ts), so here it can only be this one; one node is its
 * own one node, and any other name is a node that does not exist.
 */
export function checkPinnedHere(core: Core, node: string | undefined): void {
  const here = core.cluster.enabled ? core.cluster.self.name : defaultNodeName();
  if (node && node !== here) throw new NotFoundError(`Node ${node}`);
}
