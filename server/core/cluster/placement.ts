import type { Store } from '@/db/client';
import { getImageRow } from '@/db/repo/images';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { ConflictError, NotFoundError } from '../errors';
import type { Cluster } from './cluster';

/** What a new machine asks of its node, as the create body names it (unchecked: the route's validator answers bad fields). */
export interface PlacementAsk {
  image?: unknown;
  driver?: unknown;
  /** `--node NAME`: this node and no other. */
  node?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * Why `n` cannot take a new machine of `driver`, or null when it can. An offline node is left to
 * the forward (503 with its last heartbeat); a node whose probe has not answered yet lists no
 * drivers and is not judged on them.
 */
export function refusal(n: ClusterNode, driver: string | undefined): string | null {
  if (n.state === 'draining') return `node ${n.name} is draining: it takes no new machines`;
  if (driver && n.drivers.length && !n.drivers.includes(driver)) return `node ${n.name} does not run ${driver} machines (it runs ${n.drivers.join(', ')})`;
  return null;
}

/**
 * The node that makes a new machine. Its image's files are on the node that built, pulled or
 * imported it (images are not copied between nodes), so a machine from an image goes there; `node`
 * pins it, and a pin elsewhere, a draining node or one without the driver is a 409 before anything
 * is made. Without an image (an ISO install from this node's library) it is this node, unless pinned.
 * (A choice by load comes with copies of images between nodes: today an image has one node.)
 */
export async function placeNew(store: Store, cluster: Cluster, ask: PlacementAsk): Promise<string> {
  const nodes = await cluster.nodes();
  const driver = text(ask.driver);
  const pinName = text(ask.node);
  const pinned = pinName ? nodes.find((n) => n.name === pinName) : undefined;
  if (pinName && !pinned) throw new NotFoundError(`Node ${pinName}`);
  const imageName = text(ask.image);
  const image = imageName ? await getImageRow(store, { name: imageName }) : undefined;
  const holder = image ? (nodes.find((n) => n.id === image.nodeId) ?? (image.nodeId === null ? nodes[0] : undefined)) : undefined;
  if (image && !holder) throw new ConflictError(`Image ${imageName} is on a node that left the cluster: build, pull or import it again.`);
  if (pinned && holder && pinned.id !== holder.id)
    throw new ConflictError(`Image ${imageName} is on node ${holder.name}: a machine from it runs there (images are not copied between nodes).`);
  const target = pinned ?? holder ?? nodes.find((n) => n.self);
  if (!target) return cluster.self.id;
  const why = refusal(target, driver);
  if (why) throw new ConflictError(why);
  return target.id;
}

/**
 * The node that runs forks pinned to `nodeName` (`hangar fork SNAP --node NAME`): any node of the
 * cluster that runs the snapshot's driver and is not draining (404 for an unknown name, 409 with the
 * reason otherwise). A node that does not hold the snapshot copies it first (cluster/replicas.ts).
 */
export async function placeFork(cluster: Cluster, snap: { driver: string }, nodeName: string): Promise<string> {
  const n = (await cluster.nodes()).find((x) => x.name === nodeName);
  if (!n) throw new NotFoundError(`Node ${nodeName}`);
  const why = refusal(n, snap.driver);
  if (why) throw new ConflictError(why);
  return n.id;
}
