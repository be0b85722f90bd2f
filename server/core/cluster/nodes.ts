import type { Store } from '@/db/client';
import { heartbeat, listNodes, type NodeStatus, type NodeWithAge } from '@/db/repo/nodes';
import type { HostInfo } from '@/lib/contracts/host';
import type { ClusterNode } from '@/lib/contracts/nodes';
import type { EventBus } from '../events';

export const HEARTBEAT_MS = 2_000;
/** A node whose last heartbeat is older than this (by the database's clock) is offline. */
export const OFFLINE_MS = 10_000;

export function toClusterNode(n: NodeWithAge, selfId: string): ClusterNode {
  let caps: string[] = [];
  let drivers: string[] = [];
  try {
    const info = JSON.parse(n.capabilitiesJson) as Partial<HostInfo>;
    caps = (info.capabilities ?? []).filter((c) => c.available).map((c) => c.name);
    const runs: unknown = JSON.parse(n.driversJson);
    drivers = Array.isArray(runs) ? runs.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    // A row written by hand or by a newer version: no chips rather than no list.
  }
  return {
    id: n.id,
    name: n.name,
    internalUrl: n.internalUrl,
    version: n.version,
    state: n.state,
    online: n.ageMs < OFFLINE_MS,
    heartbeatAgeMs: Math.max(0, n.ageMs),
    capabilities: caps,
    drivers,
    cpus: n.cpus,
    memoryMib: n.memoryMib,
    joinedAt: n.joinedAt,
    self: n.id === selfId,
  };
}

export interface RegistryOptions {
  store: Store;
  selfId: string;
  bus: EventBus;
  /** This node's current figures, written with each heartbeat. */
  status: () => Partial<NodeStatus>;
  /** This node's own heartbeat came back after a gap longer than OFFLINE_MS (a partition, a suspend). */
  onResumed?: () => void;
  /** This node's row is gone (an admin removed it). */
  onRemoved?: () => void;
  now?: () => number;
  intervalMs?: number;
}

/**
 * Heartbeats and the view of every node: each tick is one UPDATE of this node's row and one
 * read of all rows. Online or offline is decided by the database's clock (`age_ms`), never by
 * comparing this host's clock with another's; `clockOffsetMs` (database minus local) lets
 * signatures carry a time every node agrees on.
 */
export class NodeRegistry {
  readonly byId = new Map<string, ClusterNode>();
  clockOffsetMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastOwnBeat = 0;
  private ticking: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly o: RegistryOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => void this.tick().catch((e) => console.error('cluster heartbeat failed:', e instanceof Error ? e.message : e)),
      this.o.intervalMs ?? HEARTBEAT_MS,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The nodes as of the last tick. */
  list(): ClusterNode[] {
    return [...this.byId.values()];
  }

  /** One heartbeat and one read; publishes `node:update` for every node that joined, changed online state, drained or left. */
  tick(): Promise<void> {
    return (this.ticking ??= this.beat().finally(() => (this.ticking = null)));
  }

  private async beat(): Promise<void> {
    const alive = await heartbeat(this.o.store, this.o.selfId, this.o.status());
    const at = this.now();
    if (!alive) this.o.onRemoved?.();
    else if (this.lastOwnBeat && at - this.lastOwnBeat > OFFLINE_MS) this.o.onResumed?.();
    if (alive) this.lastOwnBeat = at;
    const { nodes, dbNowMs } = await listNodes(this.o.store);
    this.clockOffsetMs = dbNowMs - this.now();
    const seen = new Set<string>();
    for (const row of nodes) {
      const n = toClusterNode(row, this.o.selfId);
      seen.add(n.id);
      const before = this.byId.get(n.id);
      this.byId.set(n.id, n);
      if (!before || before.online !== n.online || before.state !== n.state || before.version !== n.version) this.o.bus.publish('node:update', n);
    }
    for (const [id, n] of this.byId)
      if (!seen.has(id)) {
        this.byId.delete(id);
        this.o.bus.publish('node:update', { ...n, online: false, removed: true });
      }
  }
}
