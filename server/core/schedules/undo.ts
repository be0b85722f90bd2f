import type { Job } from '@/lib/contracts/jobs';
import type { UndoRing, UndoSettingsBody } from '@/lib/contracts/undo';
import { undoSettingsBodySchema } from '@/lib/contracts/undo';
import type { Store } from '@/db/client';
import { deleteScheduleRow, insertSchedule, listScheduleRows, scheduledSnapshots, updateScheduleRow, type ScheduleRow } from '@/db/repo/schedules';
import type { Principal } from '../auth';
import { ConflictError } from '../errors';
import { newId } from '../ids';
import type { SnapshotService } from '../snapshots';
import type { ScheduleService } from './service';

const MINUTE = 60_000;

/**
 * A machine's undo ring: a schedule of kind 'undo' that takes a checkpoint (live when the machine
 * runs) every N minutes and keeps the newest K, the oldest pruned as the ring turns (the schedule
 * timer and run of every other schedule, see run.ts). "Undo the last N minutes" restores the
 * machine to the newest point taken at or before that time.
 */
export class UndoService {
  constructor(
    private readonly store: Store,
    private readonly schedules: ScheduleService,
    private readonly snapshots: Pick<SnapshotService, 'restore'>,
    private readonly now: () => number,
  ) {}

  private async rowOf(machineId: string): Promise<ScheduleRow | undefined> {
    return (await listScheduleRows(this.store)).find((r) => r.kind === 'undo' && r.machineId === machineId);
  }

  async get(machineId: string): Promise<UndoRing> {
    const row = await this.rowOf(machineId);
    const points = row ? await this.points(row) : [];
    return {
      machineId,
      scheduleId: row?.id ?? null,
      everyMinutes: row?.everyMs ? Math.round(row.everyMs / MINUTE) : null,
      keep: row ? (JSON.parse(row.keepJson) as { last: number }).last : null,
      nextRunAt: row?.nextRunAt ?? null,
      lastRunAt: row?.lastRunAt ?? null,
      lastStatus: row?.lastStatus ?? null,
      lastError: row?.lastError ?? null,
      points: points.map((p) => ({ id: p.id, label: p.label, createdAt: p.createdAt })),
    };
  }

  /** Turn the ring on, or change its period and size (the next point is then one period from now). */
  async enable(p: Principal, machineId: string, input: UndoSettingsBody): Promise<UndoRing> {
    const body = undoSettingsBodySchema.parse(input);
    const now = this.now();
    const everyMs = body.everyMinutes * MINUTE;
    const set = { everyMs, keepJson: JSON.stringify({ last: body.keep }), nextRunAt: now + everyMs, updatedAt: now, enabled: true };
    const row = await this.rowOf(machineId);
    if (row) await updateScheduleRow(this.store, row.id, set);
    else
      await insertSchedule(this.store, {
        id: newId('sch'),
        machineId,
        tag: null,
        // Never read for an undo ring (it runs every `everyMs`); kept for the column.
        cron: `@every ${body.everyMinutes}m`,
        timeZone: 'UTC',
        createdBy: p.user.id,
        createdAt: now,
        lastRunAt: null,
        lastStatus: null,
        lastJobId: null,
        lastError: null,
        backupTargetId: null,
        backupKeep: null,
        kind: 'undo',
        ...set,
      });
    this.schedules.arm();
    return this.get(machineId);
  }

  /** Turn the ring off: no more points are taken; those taken stay, as snapshots (the answer lists them). */
  async disable(machineId: string): Promise<UndoRing> {
    const row = await this.rowOf(machineId);
    const { points } = await this.get(machineId);
    if (row) await deleteScheduleRow(this.store, row.id);
    return { ...(await this.get(machineId)), points };
  }

  /** Restore the machine to the newest point taken at or before now minus `minutes` (409 when none is that old). */
  async undo(p: Principal, machineId: string, minutes: number): Promise<Job> {
    const row = await this.rowOf(machineId);
    if (!row) throw new ConflictError('The undo ring is off for this machine: turn it on first (hangar undo enable).');
    const before = this.now() - minutes * MINUTE;
    const points = await this.points(row);
    const point = points.find((s) => s.createdAt <= before);
    if (!point) {
      const oldest = points.at(-1);
      const age = oldest ? `the oldest undo point is ${Math.floor((this.now() - oldest.createdAt) / MINUTE)} minutes old` : 'no undo point yet';
      throw new ConflictError(`Nothing to undo ${minutes} minutes back to: ${age}.`);
    }
    // The points newer than it stay in the ring (they go as it turns): no checkpoint first.
    return this.snapshots.restore(p, point.id, { machine: machineId, checkpointFirst: false });
  }

  /** The ring's complete points, newest first. */
  private async points(row: ScheduleRow) {
    return (await scheduledSnapshots(this.store, row.id, row.machineId!)).sort((a, b) => b.createdAt - a.createdAt);
  }
}
