import { describe, expect, it } from 'vitest';
import type { Cluster } from '@/server/core/cluster/cluster';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { othersThere } from './cluster-relay';

const node = (id: string, self: boolean, online: boolean) => ({ id, name: id, self, online }) as ClusterNode;
const cluster = (nodes: ClusterNode[] | null) => ({ registry: nodes ? { list: () => nodes } : null }) as unknown as Pick<Cluster, 'registry'>;
const adapter = (uids: string[]) => ({ nodesMap: new Map(uids.map((u) => [u, 0])) });

describe('othersThere: whether a cluster node publishes what happens on it', () => {
  it('publishes when another adapter answered its heartbeat, or the adapter keeps no record', () => {
    expect(othersThere(adapter(['u1']), cluster([node('a', true, true)]))).toBe(true);
    expect(othersThere({}, cluster(null))).toBe(true);
  });

  it('a node just started, whose adapter heard nobody yet, still publishes while the registry sees another node online', () => {
    expect(othersThere(adapter([]), cluster([node('a', true, true), node('b', false, true)]))).toBe(true);
  });

  it('keeps it here when no other node is online or registered', () => {
    expect(othersThere(adapter([]), cluster([node('a', true, true), node('b', false, false)]))).toBe(false);
    expect(othersThere(adapter([]), cluster([node('a', true, true)]))).toBe(false);
    expect(othersThere(adapter([]), cluster(null))).toBe(false);
  });
});
