import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '@/db/client';
import { listMachineRows } from '@/db/repo/machines';
import { isOwnRow } from '@/db/repo/own';
import { childrenOf, deleteSnapshots, getSnapshotRow, listSnapshotRows, updateSnapshot, type SnapshotRow } from '@/db/repo/snapshots';
import type { DriverKind } from '@/lib/contracts/machines';
import { diskUsage } from '@/server/drivers/shared/disk-usage';
import type { MachineDriver } from '@/server/drivers/types';
import { ConflictError, NotFoundError } from './errors';

/** Each machine's and snapshot's driver, asked which layers they stand on. */
export interface LayerOwners {
  driver(kind: DriverKind): MachineDriver;
}

export interface GcResult {
  removedFiles: number;
  removedSnapshots: number;
  freedBytes: number;
}

/**
 * Delete a snapshot: refused while snapshots below it (unless `cascade`, then they go too) or
 * machines depend on it, by their record or by their disk's backing chain.
 */
export async function deleteSnapshotTree(store: Store, dirs: { layers: string }, owners: LayerOwners, id: string, cascade: boolean): Promise<string[]> {
  const root = await getSnapshotRow(store, id);
  if (!root) throw new NotFoundError('Snapshot');
  const doomed: SnapshotRow[] = [root];
  for (let i = 0; i < doomed.length; i++) doomed.push(...(await childrenOf(store, doomed[i].id)));
  if (!cascade && doomed.length > 1)
    throw new ConflictError(
      `This snapshot has ${doomed.length - 1} snapshot${doomed.length === 2 ? '' : 's'} below it: delete those first, or delete with cascade.`,
    );
  const ids = new Set(doomed.map((d) => d.id));
  const disks = new Set(doomed.map((d) => d.diskPath).filter(Boolean));
  const users = (await listMachineRows(store)).filter((m) => (m.snapshotId && ids.has(m.snapshotId)) || layersOf(owners, m).some((f) => disks.has(f)));
  if (users.length)
    throw new ConflictError(
      `Machines run on this snapshot${cascade ? ' or below it' : ''}: ${users.map((m) => m.name).join(', ')}. Destroy them or restore them elsewhere first.`,
    );
  const extra = await recordOnly(store, dirs, owners, doomed, ids);
  for (const d of doomed.reverse()) {
    fs.rmSync(d.path, { recursive: true, force: true });
    if (d.diskPath.startsWith(dirs.layers + path.sep)) fs.rmSync(d.diskPath, { recursive: true, force: true });
    else if (d.diskPath)
      await owners
        .driver(d.driver as DriverKind)
        .dropLayer?.(d.diskPath)
        .catch(() => undefined);
  }
  for (const f of extra) fs.rmSync(f, { recursive: true, force: true });
  await deleteSnapshots(store, [...ids]);
  return [...ids];
}

/**
 * Layers the doomed snapshots' records name beside their disk chain (a VM's frozen extra disks),
 * under the layers dir, that no other snapshot's chain or record and no machine stands on: they go
 * with the snapshots. A layer something still builds on stays (garbage collection takes it later).
 */
async function recordOnly(store: Store, dirs: { layers: string }, owners: LayerOwners, doomed: SnapshotRow[], ids: Set<string>): Promise<string[]> {
  const chains = new Set(doomed.flatMap((d) => (d.diskPath ? owners.driver(d.driver as DriverKind).chainOf(d.diskPath) : [])));
  const named = new Set(doomed.flatMap((d) => recordLayers(owners, d)).filter((f) => f.startsWith(dirs.layers + path.sep) && !chains.has(f)));
  if (named.size === 0) return [];
  const used = new Set<string>();
  for (const m of await listMachineRows(store)) for (const f of layersOf(owners, m)) used.add(f);
  for (const s of await listSnapshotRows(store)) {
    if (ids.has(s.id)) continue;
    if (s.diskPath) for (const f of owners.driver(s.driver as DriverKind).chainOf(s.diskPath)) used.add(f);
    for (const f of recordLayers(owners, s)) used.add(f);
  }
  return [...named].filter((f) => !used.has(f));
}

/**
 * An undo point out of its ring. A leaf goes as any snapshot does (refused while a machine runs
 * on it). A point the ring's newer points stand on goes as a node only: its memory and device
 * files are removed, its children hang from its parent, and its disk layer stays as long as a
 * layer above it is backed by it (garbage collection removes it after). Refused (ConflictError)
 * while a machine runs on it or a snapshot other than an undo point builds on it.
 */
export async function pruneUndoPoint(store: Store, dirs: { layers: string }, owners: LayerOwners, id: string): Promise<void> {
  const row = await getSnapshotRow(store, id);
  if (!row) throw new NotFoundError('Snapshot');
  const children = await childrenOf(store, id);
  if (children.length === 0) {
    await deleteSnapshotTree(store, dirs, owners, id, false);
    return;
  }
  const on = (await listMachineRows(store)).filter((m) => m.snapshotId === id);
  if (on.length) throw new ConflictError(`Machines run on this snapshot: ${on.map((m) => m.name).join(', ')}.`);
  const others = children.filter((c) => !c.undoPoint);
  if (others.length) throw new ConflictError(`${others.length} snapshot${others.length === 1 ? ' is' : 's are'} below it that are not undo points.`);
  for (const c of children) await updateSnapshot(store, c.id, { parentId: row.parentId });
  await deleteSnapshots(store, [id]);
  fs.rmSync(row.path, { recursive: true, force: true });
}

/**
 * Every layer a machine runs on (its qcow2 chain, a container's frozen lower layers), as its
 * driver reads its record; a record the driver cannot read keeps everything (nothing is known
 * to be free), so the caller stops.
 */
const layersOf = (owners: LayerOwners, m: { driver: DriverKind; runtimeJson: string }): string[] =>
  owners.driver(m.driver).layersOf(JSON.parse(m.runtimeJson) as Record<string, unknown>);

/** The layers a snapshot's record names (its driver reads it as a machine record); none when unreadable. */
function recordLayers(owners: LayerOwners, s: SnapshotRow): string[] {
  try {
    return owners.driver(s.driver as DriverKind).layersOf(JSON.parse(s.specJson) as Record<string, unknown>);
  } catch {
    return [];
  }
}

/** Files younger than this may belong to an operation still running (a fork makes layers before its rows). */
export const GC_MIN_AGE_MS = 5 * 60_000;

/**
 * Remove what nothing refers to: disk layers outside every machine's and snapshot's backing
 * chain, snapshot directories without a row, and (`failed`) failed snapshots nothing depends on. A layer
 * counts as used when any chain reaches it, whatever the rows say, so a record cut short by a
 * crash cannot make a machine lose a layer below it.
 */
export async function collectGarbage(
  store: Store,
  dirs: { snapshots: string; layers: string },
  owners: LayerOwners,
  /** `held`: layers in use by no machine row yet (hot snapshots' standbys). */
  opts: { failed: boolean; now?: number; minAgeMs?: number; held?: string[] },
): Promise<GcResult> {
  const { now = Date.now(), minAgeMs = GC_MIN_AGE_MS } = opts;
  const out: GcResult = { removedFiles: 0, removedSnapshots: 0, freedBytes: 0 };
  const [machines, snaps] = await Promise.all([listMachineRows(store), listSnapshotRows(store)]);
  const old = (p: string) => now - fs.lstatSync(p).mtimeMs > minAgeMs;

  // Failed snapshots with nothing below or on them: their row and files go.
  const usedSnap = new Set(machines.map((m) => m.snapshotId).filter(Boolean));
  const failed: SnapshotRow[] = [];
  for (const s of snaps)
    if (opts.failed && s.state === 'failed' && isOwnRow(store, s.nodeId) && !usedSnap.has(s.id) && (await childrenOf(store, s.id)).length === 0) failed.push(s);
  for (const s of failed) {
    if (fs.existsSync(s.path)) {
      out.freedBytes += diskUsage(s.path);
      fs.rmSync(s.path, { recursive: true, force: true });
      out.removedFiles++;
    }
  }
  if (failed.length)
    await deleteSnapshots(
      store,
      failed.map((s) => s.id),
    );
  out.removedSnapshots = failed.length;

  const used = new Set<string>(opts.held);
  for (const m of machines) for (const f of layersOf(owners, m)) used.add(f);
  for (const s of snaps) if (!failed.includes(s) && s.diskPath) for (const f of owners.driver(s.driver as DriverKind).chainOf(s.diskPath)) used.add(f);
  // And the layers a snapshot's record says it stands on (a container's lower layers, kept when an undo point below went).
  for (const s of snaps) if (!failed.includes(s)) for (const f of recordLayers(owners, s)) used.add(f);
  if (fs.existsSync(dirs.layers)) {
    for (const e of fs.readdirSync(dirs.layers)) {
      const f = path.join(dirs.layers, e);
      if (used.has(f) || !old(f)) continue;
      out.freedBytes += diskUsage(f);
      fs.rmSync(f, { recursive: true, force: true });
      out.removedFiles++;
    }
  }

  const known = new Set(snaps.map((s) => path.resolve(s.path)));
  if (fs.existsSync(dirs.snapshots)) {
    for (const e of fs.readdirSync(dirs.snapshots)) {
      const d = path.join(dirs.snapshots, e);
      // Dot-names are checkpoints in progress (or cut off: start-up recovery removes those).
      if (e.startsWith('.') || known.has(d) || !old(d)) continue;
      out.freedBytes += diskUsage(d);
      fs.rmSync(d, { recursive: true, force: true });
      out.removedFiles++;
    }
  }
  return out;
}

/** Every layer a machine runs on or a snapshot stands on (its chain and what its record names), whichever node's. */
export async function layersInUse(store: Store, owners: LayerOwners): Promise<Set<string>> {
  const [machines, snaps] = await Promise.all([listMachineRows(store), listSnapshotRows(store)]);
  const used = new Set<string>();
  for (const m of machines) for (const f of layersOf(owners, m)) used.add(f);
  for (const s of snaps) {
    if (s.diskPath) for (const f of owners.driver(s.driver as DriverKind).chainOf(s.diskPath)) used.add(f);
    for (const f of recordLayers(owners, s)) used.add(f);
  }
  return used;
}
