import { eq, sql, type SQL } from 'drizzle-orm';
import type { Store } from '../client';

export type NodeRow = Store['t']['nodes']['$inferSelect'];
export type NodeWithAge = NodeRow & { ageMs: number };

/** The database's clock in epoch milliseconds: heartbeats and token expiry use it, so a node with a wrong clock is judged fairly. */
export function dbNow(s: Store): SQL<number> {
  return s.dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp())*1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
}

export interface NodeStatus {
  version: string;
  internalUrl: string;
  capabilitiesJson: string;
  driversJson: string;
  cpus: number;
  memoryMib: number;
  memoryLimitMib: number;
  usageJson: string;
}

/** A node's figures before its first heartbeat fills them in. */
const BLANK_STATUS = { capabilitiesJson: '{}', driversJson: '[]', cpus: 0, memoryMib: 0, memoryLimitMib: 0, usageJson: '{}' };

export async function insertNode(
  s: Store,
  n: { id: string; name: string; publicKey: string } & Pick<NodeStatus, 'version' | 'internalUrl'> & Partial<NodeStatus>,
): Promise<void> {
  await s.db.insert(s.t.nodes).values({ ...BLANK_STATUS, ...n, state: 'active', joinedAt: dbNow(s), heartbeatAt: dbNow(s) });
}

/** One UPDATE: this node is alive (the database's clock), with its current figures. False when its row is gone (removed). */
export async function heartbeat(s: Store, id: string, status: Partial<NodeStatus>): Promise<boolean> {
  const rows = await s.db
    .update(s.t.nodes)
    .set({ ...status, heartbeatAt: dbNow(s) })
    .where(eq(s.t.nodes.id, id))
    .returning({ id: s.t.nodes.id });
  return rows.length > 0;
}

/** Every node with `ageMs`: the database's now minus its last heartbeat, so "offline" is decided by one clock. */
export async function listNodes(s: Store): Promise<{ nodes: NodeWithAge[]; dbNowMs: number }> {
  const now = dbNow(s);
  const rows = await s.db
    .select({ node: s.t.nodes, dbNowMs: sql<number>`${now}`.mapWith(Number) })
    .from(s.t.nodes)
    .orderBy(s.t.nodes.joinedAt, s.t.nodes.name);
  // No rows, no database clock read: nothing is judged by it then.
  const dbNowMs = rows.length ? Number(rows[0].dbNowMs) : Date.now();
  return { nodes: rows.map((r) => ({ ...r.node, ageMs: Number(r.dbNowMs) - Number(r.node.heartbeatAt) })), dbNowMs };
}

export async function countNodes(s: Store): Promise<number> {
  const rows = await s.db.select({ id: s.t.nodes.id }).from(s.t.nodes);
  return rows.length;
}

export async function findNodeById(s: Store, id: string): Promise<NodeRow | undefined> {
  const [row] = await s.db.select().from(s.t.nodes).where(eq(s.t.nodes.id, id)).limit(1);
  return row;
}

export async function findNodeByName(s: Store, name: string): Promise<NodeRow | undefined> {
  const [row] = await s.db.select().from(s.t.nodes).where(eq(s.t.nodes.name, name)).limit(1);
  return row;
}

export async function setNodeState(s: Store, id: string, state: 'active' | 'draining'): Promise<void> {
  await s.db.update(s.t.nodes).set({ state }).where(eq(s.t.nodes.id, id));
}

export async function deleteNode(s: Store, id: string): Promise<void> {
  await s.db.delete(s.t.nodes).where(eq(s.t.nodes.id, id));
}

/** The founder takes the rows written before there was a cluster: jobs, machines, snapshots, images. */
export async function claimUnownedRows(s: Store, nodeId: string): Promise<void> {
  await s.db.execute(sql`update jobs set node_id = ${nodeId} where node_id is null`);
  await s.db.execute(sql`update machines set node_id = ${nodeId} where node_id is null`);
  await s.db.execute(sql`update snapshots set node_id = ${nodeId} where node_id is null`);
  await s.db.execute(sql`update images set node_id = ${nodeId} where node_id is null`);
}
