import { eq, isNull, or, type Column, type SQL } from 'drizzle-orm';
import type { Store } from '../client';

/**
 * A row this node runs or holds: every row on one node; in a cluster, the rows naming this node,
 * and for the founder also the rows older than the cluster (node_id null).
 */
export function isOwnRow(s: Store, nodeId: string | null | undefined): boolean {
  if (!s.node) return true;
  return nodeId === s.node.id || (nodeId == null && s.node.founder);
}

/** The same, as a WHERE condition on a `node_id` column (undefined: no condition, one node). */
export function ownRows(s: Store, col: Column): SQL | undefined {
  if (!s.node) return undefined;
  return s.node.founder ? or(eq(col, s.node.id), isNull(col)) : eq(col, s.node.id);
}

/** The node id a new row of this node gets (null on one node). */
export const newRowNode = (s: Store): string | null => s.node?.id ?? null;
