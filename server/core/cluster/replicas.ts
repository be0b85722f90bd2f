import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '@/db/client';
import { listMachineRows } from '@/db/repo/machines';
import { isOwnRow } from '@/db/repo/own';
import { allCopies, copiesOfAny, deleteCopy, getCopy, insertCopy, nodeCopies, touchCopy, type SnapshotCopyRow } from '@/db/repo/snapshot-copies';
import { getSnapshotRow, type SnapshotRow } from '@/db/repo/snapshots';
import type { DriverKind } from '@/lib/contracts/machines';
import type { Snapshot } from '@/lib/contracts/snapshots';
import type { SnapshotArchiver } from '@/server/drivers/types';
import { ConflictError, UnavailableError } from '../errors';
import type { JobContext } from '../jobs';
import { resolveInside } from '../paths';
import { unpackReplica } from '../snapshot-archive';
import { layersInUse, type LayerOwners } from '../snapshot-gc';
import type { Cluster } from './cluster';
import { askToSweep, sweepEvery, fetchFromNode, gibBudget, mib, type TransferFrom } from './transfer';

/** Where a node's replicas are (DATA/replicas/SNAPSHOT_ID), and the internal route another node streams a snapshot's archive from. */
export const replicaArchivePath = (snapshotId: string) => `/api/internal/snapshots/${encodeURIComponent(snapshotId)}/archive`;
export const REPLICA_SWEEP_PATH = '/api/internal/replicas/sweep';

/** HANGAR_REPLICA_BUDGET_GIB: what a node keeps of other nodes' snapshots (default 20 GiB); past it the least recently used go. */
export const replicaBudgetBytes = (env: Record<string, string | undefined> = process.env): number => gibBudget(env.HANGAR_REPLICA_BUDGET_GIB, 20);

/** HANGAR_REPLICA_RATE_MIBS: the most a transfer to this node takes of the network, MiB/s (default: no limit). */
export const replicaRateBytes = (env: Record<string, string | undefined> = process.env): number => {
  const mib = Number(env.HANGAR_REPLICA_RATE_MIBS);
  return Number.isFinite(mib) && mib > 0 ? mib * 2 ** 20 : 0;
};

export interface ReplicaDeps {
  store: Store;
  cluster: Cluster;
  /** DATA/replicas. */
  dir: string;
  archiverOf: (kind: DriverKind) => SnapshotArchiver | undefined;
  owners: LayerOwners;
  budgetBytes: number;
  /** Bytes per second a transfer may take (0: no limit). */
  rateBytes: number;
  now: () => number;
}

const SWEEP_MS = 60_000;

/**
 * Snapshots held by another node, copied here for forks: the owner streams its archive (the
 * export format, checksums verified here) over the node-signed internal route; it is unpacked in
 * a temp dir that is renamed only when whole, and recorded in `snapshot_copies`, the row being
 * what makes it used (files without a row are swept). The next fork here uses the copy again.
 * Past the budget, copies nothing here stands on go, least recently used first. A deleted
 * snapshot's copies: every node removes its own (its rows name a snapshot that is gone) when the
 * owner asks it after the delete, and on its own at start and every minute (a node offline at
 * the delete catches up when it is back).
 */
export class ReplicaService {
  private readonly inflight = new Map<string, Promise<SnapshotCopyRow>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: ReplicaDeps) {}

  /** Where each snapshot has copies, by snapshot id (the snapshot views' `copies`). */
  async views(): Promise<Map<string, Snapshot['copies']>> {
    const out = new Map<string, Snapshot['copies']>();
    if (!this.d.cluster.enabled) return out;
    for (const c of await allCopies(this.d.store)) {
      const list = out.get(c.snapshotId) ?? [];
      list.push({ node: this.d.cluster.registry?.byId.get(c.nodeId)?.name ?? c.nodeId, bytes: c.bytes, lastUsedAt: c.lastUsedAt });
      out.set(c.snapshotId, list);
    }
    return out;
  }

  /** This node holds the snapshot's own files (always, on one node). */
  holds(snap: SnapshotRow): boolean {
    return this.d.cluster.isLocal(snap.nodeId);
  }

  /**
   * The snapshot as a fork on this node uses it: its own row when this node holds it; otherwise
   * the row with this node's copy's files (made now, the transfer's progress in `ctx`, when missing).
   */
  async local(snap: SnapshotRow, ctx: JobContext): Promise<SnapshotRow> {
    if (this.holds(snap)) return snap;
    const self = this.d.cluster.self.id;
    let copy = await getCopy(this.d.store, snap.id, self);
    if (copy && !fs.existsSync(copy.path)) {
      // Its files went (by hand): the row alone is no copy.
      await deleteCopy(this.d.store, snap.id, self);
      copy = undefined;
    }
    if (copy) {
      await touchCopy(this.d.store, snap.id, self, this.d.now());
      ctx.log(`replica of "${snap.label}" already on node ${this.d.cluster.self.name}: no transfer`);
    } else {
      let making = this.inflight.get(snap.id);
      if (making) ctx.log(`replica of "${snap.label}" being copied to this node for another fork: waiting for it`);
      else {
        making = this.transfer(snap, ctx).finally(() => this.inflight.delete(snap.id));
        this.inflight.set(snap.id, making);
      }
      copy = await making;
      await this.evict(snap.id, ctx).catch((err: Error) => ctx.log(`replica budget: ${err.message}`));
    }
    return { ...snap, path: copy.path, diskPath: copy.diskPath, specJson: copy.specJson };
  }

  private async transfer(snap: SnapshotRow, ctx: JobContext): Promise<SnapshotCopyRow> {
    if (!snap.nodeId) throw new ConflictError('This snapshot names no node that holds it.');
    const from = this.d.cluster.requireOnline(snap.nodeId);
    const self = this.d.cluster.self;
    fs.mkdirSync(this.d.dir, { recursive: true, mode: 0o700 });
    const dir = resolveInside(this.d.dir, snap.id);
    // Dot-names are transfers under way (or cut off: sweep() removes those not under way).
    const part = resolveInside(this.d.dir, `.${snap.id}.${randomBytes(6).toString('hex')}.part`);
    fs.mkdirSync(part, { mode: 0o700 });
    const archive = path.join(part, 'archive.tar');
    const reason = (why: string) => new UnavailableError(`Copying snapshot "${snap.label}" from node ${from.name} failed: ${why}`);
    try {
      ctx.progress(1, `Copying "${snap.label}" from node ${from.name}`);
      ctx.log(`snapshot "${snap.label}" is held by node ${from.name}: copying it to node ${self.name} (node ${from.name} packs its archive first)`);
      const t0 = performance.now();
      const bytes = await this.download(from, snap.id, archive, ctx, reason);
      const secs = (performance.now() - t0) / 1000;
      ctx.log(`received ${mib(bytes)} MiB in ${secs.toFixed(1)} s; checking the checksums and unpacking`);
      ctx.progress(17, 'Checking the copy');
      // No row names it (checked above), so whatever is there is a leftover a failed removal kept.
      fs.rmSync(dir, { recursive: true, force: true });
      const files = await unpackReplica(archive, path.join(part, 'files'), dir, this.d.archiverOf).catch((err: Error) => {
        throw reason(err.message);
      });
      const now = this.d.now();
      const row: SnapshotCopyRow = { snapshotId: snap.id, nodeId: self.id, ...files, createdAt: now, lastUsedAt: now };
      try {
        await insertCopy(this.d.store, row);
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      // Deleted meanwhile: this copy is nobody's.
      if (!(await getSnapshotRow(this.d.store, snap.id))) {
        await this.removeCopy(row);
        throw new ConflictError(`Snapshot "${snap.label}" was deleted during the copy.`);
      }
      ctx.log(`replica of "${snap.label}" kept on node ${self.name} (${mib(files.bytes)} MiB): the next fork here uses it`);
      return row;
    } finally {
      fs.rmSync(part, { recursive: true, force: true });
    }
  }

  /** The owner's archive of the snapshot into `file`, whole or an error (a cut transfer, a refusal). Returns its size. */
  private download(from: TransferFrom, snapshotId: string, file: string, ctx: JobContext, reason: (why: string) => Error): Promise<number> {
    return fetchFromNode({
      cluster: this.d.cluster,
      from,
      pathAndQuery: replicaArchivePath(snapshotId),
      file,
      signal: ctx.signal,
      rateBytes: this.d.rateBytes,
      progress: (pct, message) => ctx.progress(1 + Math.floor((pct * 15) / 100), message),
      log: ctx.log,
      reason,
    });
  }

  /** Past the budget: this node's copies, least recently used first, that nothing here stands on (not `keep`, just made). */
  private async evict(keep: string, ctx: JobContext): Promise<void> {
    const self = this.d.cluster.self.id;
    const copies = await nodeCopies(this.d.store, self);
    let total = copies.reduce((a, c) => a + c.bytes, 0);
    if (total <= this.d.budgetBytes) return;
    // Machines of this node on a copy (another node's machines on the snapshot stand on its own files there).
    const onCopy = new Set((await listMachineRows(this.d.store)).filter((m) => m.snapshotId && isOwnRow(this.d.store, m.nodeId)).map((m) => m.snapshotId));
    const used = await layersInUse(this.d.store, this.d.owners);
    for (const c of copies) {
      if (total <= this.d.budgetBytes) break;
      if (c.snapshotId === keep || onCopy.has(c.snapshotId) || used.has(c.diskPath)) continue;
      await this.removeCopy(c);
      total -= c.bytes;
      ctx.log(`replica budget (${mib(this.d.budgetBytes)} MiB): the least recently used copy (snapshot ${c.snapshotId}, ${mib(c.bytes)} MiB) removed`);
    }
  }

  private async removeCopy(c: SnapshotCopyRow): Promise<void> {
    // Row first: a copy without its row is never used, and files without a row are swept.
    await deleteCopy(this.d.store, c.snapshotId, c.nodeId);
    fs.rmSync(resolveInside(this.d.dir, c.snapshotId), { recursive: true, force: true });
  }

  /**
   * This node's copies of snapshots that are gone, and replica dirs no row of this node names (a
   * transfer cut off by a stop, a crash between the rename and the row): removed. Returns how many.
   */
  async sweep(): Promise<number> {
    if (!this.d.cluster.enabled) return 0;
    const self = this.d.cluster.self.id;
    // Taken before the rows are read: a transfer that ends between the two has its row read, one that ends after is skipped.
    const busy = [...this.inflight.keys()];
    const mine = await nodeCopies(this.d.store, self);
    let removed = 0;
    for (const c of mine)
      if (!(await getSnapshotRow(this.d.store, c.snapshotId))) {
        await this.removeCopy(c);
        removed++;
      }
    if (fs.existsSync(this.d.dir)) {
      const kept = new Set(mine.map((c) => c.snapshotId));
      for (const e of fs.readdirSync(this.d.dir)) {
        if (kept.has(e) || busy.some((id) => e === id || e.startsWith(`.${id}.`))) continue;
        fs.rmSync(path.join(this.d.dir, e), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /**
   * After a delete on this node: every copy of a snapshot that is gone goes: this node's here, each
   * online holder's by a signed call (awaited: the delete answers once they are gone). An offline
   * holder, or one whose call fails, removes its own at its next sweep.
   */
  async dropGone(ids: string[]): Promise<void> {
    if (!this.d.cluster.enabled) return;
    const copies = await copiesOfAny(this.d.store, ids);
    const nodes = new Set(copies.map((c) => c.nodeId));
    if (nodes.delete(this.d.cluster.self.id)) await this.sweep();
    await askToSweep(this.d.cluster, nodes, REPLICA_SWEEP_PATH, `copies of ${ids.join(', ')}`);
  }

  /** The sweep at start and every minute (a node that was offline at a delete removes its copies when back). */
  start(): void {
    if (!this.d.cluster.enabled || this.timer) return;
    this.timer = sweepEvery(SWEEP_MS, 'replica sweep', () => this.sweep());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
