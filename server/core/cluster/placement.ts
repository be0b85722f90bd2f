import type { Store } from '@/db/client';
import { getImageRow } from '@/db/repo/images';
import { listMachineRows } from '@/db/repo/machines';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { ConflictError, NotFoundError } from '../errors';
import type { Cluster } from './cluster';

/** What a new machine asks of its node, as the create body names it (unchecked: the route's validator answers bad fields). */
export interface PlacementAsk {
  image?: unknown;
  driver?: unknown;
  /** `--node NAME`: this node and no other. */
  node?: unknown;
  memoryMib?: unknown;
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

/** Machines that hold their memory (not stopped or failed), by the node that runs them. */
const HOLDING = new Set(['creating', 'starting', 'running', 'paused', 'stopping', 'unknown']);

/** The memory (MiB) each node's machines hold now, by node id (rows older than the cluster: the founder's). */
export async function committedMib(store: Store, founder: string | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await listMachineRows(store)) {
    const at = m.nodeId ?? founder;
    if (at && HOLDING.has(m.state)) out.set(at, (out.get(at) ?? 0) + m.memoryMib);
  }
  return out;
}

/**
 * The node that makes a new machine. Pinned (`node`): that node, refused (409) when draining or
 * without the driver. Otherwise the least loaded node that can take it: online, not draining, with
 * the driver, and whose machines' memory plus this one's stays under its memory; load is the
 * share of its memory its machines hold, ties going to the node that holds the image (no copy),
 * then to this node. A node without the image copies it when the machine is made
 * (cluster/image-copies.ts; an OCI image's layers into its store, unless its driver pulls the image
 * itself). Without an image (an ISO install from this
 * node's library) it is this node, unless pinned.
 */
export async function placeNew(store: Store, cluster: Cluster, ask: PlacementAsk): Promise<string> {
  const nodes = await cluster.nodes();
  const driver = text(ask.driver);
  const pinName = text(ask.node);
  const pinned = pinName ? nodes.find((n) => n.name === pinName) : undefined;
  if (pinName && !pinned) throw new NotFoundError(`Node ${pinName}`);
  const imageName = text(ask.image);
  const image = imageName ? await getImageRow(store, { name: imageName }) : undefined;
  // Rows older than the cluster are the founder's: the node that joined first.
  const founder = [...nodes].sort((x, y) => x.joinedAt - y.joinedAt)[0]?.id;
  const holder = image ? nodes.find((n) => n.id === (image.nodeId ?? founder)) : undefined;
  if (image?.kind === 'oci' && !holder) throw new ConflictError(`Image ${imageName} is on a node that left the cluster: pull it again.`);
  if (pinned || !image) {
    const target = pinned ?? nodes.find((n) => n.self);
    if (!target) return cluster.self.id;
    const why = refusal(target, driver);
    if (why) throw new ConflictError(why);
    return target.id;
  }
  const mib = typeof ask.memoryMib === 'number' && ask.memoryMib > 0 ? ask.memoryMib : 512;
  const held = await committedMib(store, founder);
  const reasons: string[] = [];
  const able = nodes.filter((n) => {
    const why = (n.online || n.self ? refusal(n, driver) : `node ${n.name} is offline`) ?? roomWhy(n, held.get(n.id) ?? 0, mib);
    if (why) reasons.push(why);
    return !why;
  });
  if (!able.length) throw new ConflictError(`No node can take this machine: ${reasons.join('; ')}.`);
  const load = (n: ClusterNode) => (held.get(n.id) ?? 0) / Math.max(1, n.memoryMib);
  const rank = (n: ClusterNode) => [load(n), n.id === holder?.id ? 0 : 1, n.self ? 0 : 1];
  able.sort((x, y) => {
    const [a, b] = [rank(x), rank(y)];
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  });
  return able[0].id;
}

/** Why `n` has no room for `mib` more (its machines hold `used`), or null. A node whose probe has not answered (0 MiB) is not judged. */
function roomWhy(n: ClusterNode, used: number, mib: number): string | null {
  if (!n.memoryMib || used + mib <= n.memoryMib) return null;
  return `node ${n.name} has ${Math.max(0, n.memoryMib - used)} of ${n.memoryMib} MiB free for machines (${mib} asked)`;
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
