import os from 'node:os';
import type { Store } from '@/db/client';
import { claimUnownedRows, countNodes, findNodeById, insertNode, listNodes, type NodeStatus } from '@/db/repo/nodes';
import { NAME_PATTERN } from '@/lib/contracts/common';
import type { EventBus } from '../events';
import { UnavailableError } from '../errors';
import { newId } from '../ids';
import type { Cluster, SignedRequest } from './cluster';
import { NODE_HEADERS } from './cluster';
import { loadOrCreateIdentity, newNonce, ReplayGuard, saveNodeInfo, signForward, verifyForward, type NodeInfo } from './identity';
import { JoinService, requestJoin, signChallenge } from './join';
import { NodeRegistry, OFFLINE_MS, toClusterNode } from './nodes';
import { soloCluster } from './solo';

export interface ClusterOptions {
  /** `hangar up --cluster-join URL --token T`. */
  join?: { url: string; token: string };
  /** Default: the host name. */
  nodeName?: string;
  /** Where the other nodes reach this one; default: the URL it listens on. */
  internalUrl?: string;
}

export interface ClusterDeps {
  store: Store;
  dataDir: string;
  version: string;
  bus: EventBus;
  /** This node's figures for its heartbeat (host probe, capacity). */
  status: () => Partial<NodeStatus>;
  options?: ClusterOptions;
}

/** The host name as a node name (lower-case letters, digits, dashes). */
export function defaultNodeName(): string {
  const n = os
    .hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return NAME_PATTERN.test(n) ? n : 'node';
}

/**
 * This server's cluster at start-up. SQLite: the solo object. PostgreSQL: this node as the data
 * dir remembers it (DATA/cluster/node.json); without one, an empty `nodes` table makes it the
 * founder, `--cluster-join` makes it join once it listens (online()), and anything else is refused.
 */
export async function startCluster(d: ClusterDeps): Promise<Cluster> {
  if (d.store.dialect !== 'postgres') return soloCluster();
  const o = d.options ?? {};
  const id = loadOrCreateIdentity(d.dataDir);
  const name = o.nodeName ?? defaultNodeName();
  if (!NAME_PATTERN.test(name)) throw new Error(`--node-name ${name}: lower-case letters, digits and dashes`);
  let self: NodeInfo;
  let pendingJoin: ClusterOptions['join'] | null = null;
  if (id.info) {
    self = id.info;
    if (!(await findNodeById(d.store, self.id)))
      throw new Error(
        `Node ${self.name} is not in this database's cluster (removed, or DATABASE_URL is another database): delete ${id.dir}/node.json to join again.`,
      );
    if (o.join) console.log(`  node ${self.name} is already in its cluster: --cluster-join ignored`);
    // Rows written before this version named no node (machines, snapshots): they are the founder's.
    if (self.founder) await claimUnownedRows(d.store, self.id);
  } else if (o.join) {
    self = { id: newId('nod'), name, clusterId: '', founder: false };
    pendingJoin = o.join;
  } else {
    if ((await countNodes(d.store)) > 0)
      throw new Error('This database already has nodes: join with --cluster-join URL --token T (a token from `hangar nodes token` on a node of the cluster).');
    self = { id: newId('nod'), name, clusterId: newId('cls'), founder: true };
    await insertNode(d.store, {
      id: self.id,
      name,
      publicKey: id.publicKeyPem,
      version: d.version,
      internalUrl: o.internalUrl ?? '',
      ...d.status(),
    });
    saveNodeInfo(id, self);
    await claimUnownedRows(d.store, self.id);
  }
  // No rolling upgrades: a node refuses to run next to an online node of another version.
  const other = (await listNodes(d.store)).nodes.find((n) => n.id !== self.id && n.ageMs < OFFLINE_MS && n.version !== d.version);
  if (other) throw new Error(`This node runs ${d.version}, node ${other.name} runs ${other.version}: every node of a cluster must run the same version.`);

  const keys = new Map<string, { pem: string; at: number }>();
  const publicKeyOf = async (nodeId: string): Promise<string | null> => {
    const hit = keys.get(nodeId);
    if (hit && Date.now() - hit.at < 5_000) return hit.pem;
    const row = await findNodeById(d.store, nodeId);
    if (!row) return null;
    keys.set(nodeId, { pem: row.publicKey, at: Date.now() });
    return row.publicKey;
  };
  let registry: NodeRegistry | null = null;
  const dbNow = () => Date.now() + (registry?.clockOffsetMs ?? 0);
  const replay = new ReplayGuard(dbNow);
  const sign = (method: string, path: string, principal = ''): Record<string, string> => {
    const fields = { node: self.id, method, path, ts: dbNow(), nonce: newNonce(), principal };
    return {
      [NODE_HEADERS.node]: fields.node,
      [NODE_HEADERS.ts]: String(fields.ts),
      [NODE_HEADERS.nonce]: fields.nonce,
      [NODE_HEADERS.signature]: signForward(id.key, fields),
      ...(principal ? { [NODE_HEADERS.forwarded]: principal } : {}),
    };
  };
  let internalUrl = o.internalUrl ?? '';
  const status = () => ({ ...d.status(), version: d.version, ...(internalUrl ? { internalUrl } : {}) });
  const join = new JoinService({ store: d.store, version: d.version, clusterId: () => self.clusterId, sign });
  const cluster: Cluster = {
    enabled: true,
    get self() {
      return { id: self.id, name: self.name };
    },
    founder: self.founder,
    ownsNothingYet: !self.founder,
    get registry() {
      return registry;
    },
    get join() {
      return join;
    },
    isLocal: (nodeId) => (nodeId === null ? self.founder : nodeId === self.id),
    nodes: async () => (await listNodes(d.store)).nodes.map((n) => toClusterNode(n, self.id)),
    sign,
    async verify(req: SignedRequest) {
      const node = req.header(NODE_HEADERS.node);
      const sig = req.header(NODE_HEADERS.signature);
      const nonce = req.header(NODE_HEADERS.nonce);
      const ts = Number(req.header(NODE_HEADERS.ts));
      if (!node || !sig || !nonce || !Number.isFinite(ts)) return null;
      const pem = await publicKeyOf(node);
      const principal = req.header(NODE_HEADERS.forwarded) ?? '';
      if (!pem || !verifyForward(pem, { node, method: req.method, path: req.path, ts, nonce, principal }, sig)) return null;
      return replay.check(ts, nonce) === null ? node : null;
    },
    requireOnline(nodeId) {
      const n = registry?.byId.get(nodeId);
      if (!n) throw new UnavailableError('The node that runs this is not in the cluster (removed?).');
      if (!n.online && !n.self) throw new UnavailableError(`node ${n.name} is offline (last heartbeat ${Math.round(n.heartbeatAgeMs / 1000)} s ago)`);
      return { id: n.id, name: n.name, url: n.internalUrl };
    },
    pong: (challenge) => ({ node: self.id, signature: signChallenge(id.key, challenge) }),
    async online(url) {
      internalUrl ||= url;
      if (pendingJoin) {
        const joined = await requestJoin(pendingJoin.url, {
          token: pendingJoin.token,
          nodeId: self.id,
          name: self.name,
          internalUrl,
          version: d.version,
          publicKey: id.publicKeyPem,
        });
        // The row the cluster wrote must be in this node's own database.
        if (!(await findNodeById(d.store, self.id)))
          throw new Error("DATABASE_URL is not the cluster's database: the node joined, but its row is not in this database.");
        self = { ...self, clusterId: joined.clusterId };
        saveNodeInfo(id, self);
        pendingJoin = null;
      }
      registry = new NodeRegistry({
        store: d.store,
        selfId: self.id,
        bus: d.bus,
        status,
        onRemoved: () => console.error(`node ${self.name} was removed from the cluster: stop this server (its heartbeat has no row to write).`),
        onResumed: () => console.log(`node ${self.name}: heartbeat back after a gap`),
      });
      await registry.tick();
      registry.start();
    },
    async close() {
      registry?.stop();
    },
  };
  return cluster;
}
