import type { Keep } from '@/lib/contracts/schedules';
import type { Store } from '@/db/client';
import type { MachineBase } from '@/db/repo/machines';
import { scheduledSnapshots, type ScheduleRow } from '@/db/repo/schedules';
import { ConflictError } from '../errors';
import type { JobContext } from '../jobs';
import type { MachineService } from '../machines';
import type { SnapshotService } from '../snapshots';
import type { BackupService } from '../backups/service';
import { selectKept } from './retention';

export interface RunDeps {
  store: Store;
  machines: Pick<MachineService, 'describe'>;
  snapshots: Pick<SnapshotService, 'checkpointFor' | 'remove' | 'pruneUndoPoint'>;
  backups?: ScheduleBackups | null;
  now: () => number;
}

export type ScheduleBackups = Pick<BackupService, 'backupIn' | 'prune' | 'targets'>;

export interface RunResult {
  taken: string[];
  pruned: string[];
  /** Snapshots out of retention that the snapshot service would not delete (a machine runs on them, others build on them). */
  keptInUse: string[];
  skipped: { machine: string; reason: string }[];
  failed: { machine: string; error: string }[];
}

/** Why a machine is not checkpointed now (its driver cannot, or its state does not allow it), or null. */
function skipReason(m: MachineBase, machines: RunDeps['machines']): string | null {
  const can = machines.describe(m.driver).checkpoint;
  if (m.state === 'running' || m.state === 'paused')
    return can.running === 'none' ? `its driver cannot checkpoint a running machine (${can.reason ?? 'no reason given'})` : null;
  if (m.state === 'stopped') return can.stopped === 'none' ? `its driver cannot checkpoint a stopped machine (${can.reason ?? 'no reason given'})` : null;
  return `it is ${m.state}`;
}

/** One run of a schedule over its machines: checkpoint each, then prune what falls out of retention. */
export async function runSchedule(d: RunDeps, row: ScheduleRow, keep: Keep, targets: MachineBase[], ctx: JobContext): Promise<RunResult> {
  const r: RunResult = { taken: [], pruned: [], keptInUse: [], skipped: [], failed: [] };
  if (targets.length === 0) ctx.log(row.tag ? `no machine has the tag ${row.tag}` : 'the machine is gone');
  for (const [i, m] of targets.entries()) {
    const base = Math.round((i / targets.length) * 100);
    ctx.progress(base, `${m.name}: checkpoint`);
    const why = skipReason(m, d.machines);
    if (why) {
      ctx.log(`${m.name}: skipped: ${why}`);
      r.skipped.push({ machine: m.name, reason: why });
      continue;
    }
    try {
      const undo = row.kind === 'undo';
      const label = `${m.name} ${undo ? 'undo point' : 'scheduled'} ${new Date(d.now()).toISOString().slice(0, 16).replace('T', ' ')}`;
      const snap = await d.snapshots.checkpointFor(row.id, m.id, label, ctx, undo);
      r.taken.push(snap.id);
      ctx.log(`${m.name}: ${snap.kind} snapshot ${snap.id}`);
      if (row.backupTargetId && d.backups) await backUp(d.backups, row, snap.id, m, r, ctx);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      ctx.log(`${m.name}: checkpoint failed: ${msg}`);
      r.failed.push({ machine: m.name, error: msg });
      // Retention still applies: a failed checkpoint is no reason to keep more than asked.
    }
    await prune(d, row, keep, m, r, ctx);
  }
  ctx.progress(100, 'done');
  if (r.failed.length) throw new Error(`checkpoint failed on ${r.failed.map((f) => `${f.machine} (${f.error})`).join(', ')}`);
  return r;
}

/** The new snapshot to the schedule's target, then its keep-last-N there; a failure fails the run, the snapshot stays. */
async function backUp(b: ScheduleBackups, row: ScheduleRow, snapId: string, m: MachineBase, r: RunResult, ctx: JobContext): Promise<void> {
  try {
    const done = await b.backupIn(snapId, row.backupTargetId!, row.id, ctx);
    ctx.log(`${m.name}: backed up as ${done.backup} (${done.uploadedObjects} objects sent, ${done.skippedObjects} on ${done.target} already)`);
    await b.prune(row.backupTargetId!, row.id, m.id, row.backupKeep ?? 1, ctx);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    ctx.log(`${m.name}: backup failed: ${msg}`);
    r.failed.push({ machine: m.name, error: `backup: ${msg}` });
  }
}

async function prune(d: RunDeps, row: ScheduleRow, keep: Keep, m: MachineBase, r: RunResult, ctx: JobContext): Promise<void> {
  const snaps = await scheduledSnapshots(d.store, row.id, m.id);
  const kept = selectKept(snaps, keep, row.timeZone);
  // Oldest first: a child pruned before its parent lets the parent go in the same run.
  for (const s of [...snaps].sort((a, b) => a.createdAt - b.createdAt)) {
    if (kept.has(s.id)) continue;
    try {
      // An undo ring's points stand on each other: the oldest goes, its disk layer stays under the newer ones.
      if (row.kind === 'undo') await d.snapshots.pruneUndoPoint(s.id);
      else await d.snapshots.remove(s.id, false);
      r.pruned.push(s.id);
      ctx.log(`${m.name}: pruned ${s.id} (${s.label})`);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // The snapshot service's own refusal: a machine runs on it or others build on it. Kept.
      r.keptInUse.push(s.id);
      ctx.log(`${m.name}: kept ${s.id} (out of retention, but ${err.message})`);
    }
  }
}
