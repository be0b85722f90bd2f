import type { ClusterNode } from '@/lib/contracts/nodes';
import type { NodeRegistry } from './nodes';
import type { JoinService } from './join';

/** The headers a node's signed call carries (server/api/route.ts checks them on `access: 'node'` routes). */
export const NODE_HEADERS = {
  node: 'x-hangar-node',
  ts: 'x-hangar-ts',
  nonce: 'x-hangar-nonce',
  signature: 'x-hangar-signature',
  /** The user a forwarded request acts for (base64url JSON, covered by the signature). */
  forwarded: 'x-hangar-forwarded',
} as const;

export interface SignedRequest {
  method: string;
  /** Path and query, as sent (under /api). */
  path: string;
  header(name: string): string | undefined;
}

/**
 * This server's place in a cluster. SQLite (one node) gets the solo object (solo.ts): every
 * node id is local and none of the cluster paths run. PostgreSQL gets the real one (start.ts).
 */
export interface Cluster {
  readonly enabled: boolean;
  /** This node ('local' on one node). */
  readonly self: { id: string; name: string };
  /** The first node of the cluster: it holds the rows older than the cluster (node_id null). */
  readonly founder: boolean;
  /**
   * A node that joined leaves the image recovery passes (rootfs, disk images, ISOs) to the
   * founder: they sweep rows that name no node (each node prepares its own OCI store); the image builds a restart cuts off are failed by
   * their own node (images.recover runs on every node over its own rows). Re-attach, snapshot
   * recovery, hot standbys, schedules and fork link expiry run on every node over its own rows (db/repo/own.ts).
   */
  readonly ownsNothingYet: boolean;
  readonly registry: NodeRegistry | null;
  readonly join: JoinService | null;
  isLocal(nodeId: string | null): boolean;
  /** The nodes as the registry last saw them (empty on one node). */
  nodes(): Promise<ClusterNode[]>;
  /** Signature headers for a call from this node to another (`path` with its query), acting for `principal` (x-hangar-forwarded) when given. */
  sign(method: string, path: string, principal?: string): Record<string, string>;
  /** The calling node's id when the request carries a valid, fresh, unused node signature (over x-hangar-forwarded too); otherwise null. */
  verify(req: SignedRequest): Promise<string | null>;
  /** A node that can be reached: its internal URL and name; 503 (UnavailableError) with the reason when it is offline or unknown. */
  requireOnline(nodeId: string): { id: string; name: string; url: string };
  /** The answer to another node's ping: the challenge signed with this node's key. */
  pong(challenge: string): { node: string; signature: string };
  /** Once the server listens at `url`: join (when asked), then heartbeat. */
  online(url: string): Promise<void>;
  close(): Promise<void>;
}
