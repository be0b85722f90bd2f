import { Cron } from 'croner';
import type { Job } from '@/lib/contracts/jobs';
import type { Machine } from '@/lib/contracts/machines';
import type { CreateScheduleBody, Keep, Schedule } from '@/lib/contracts/schedules';
import { createScheduleBodySchema } from '@/lib/contracts/schedules';
import type { Store } from '@/db/client';
import { getMachineRowsByIds, listMachineRows, listMachines, toMachineBase, type MachineBase } from '@/db/repo/machines';
import { isOwnRow } from '@/db/repo/own';
import { deleteScheduleRow, getScheduleRow, insertSchedule, listScheduleRows, updateScheduleRow, type ScheduleRow } from '@/db/repo/schedules';
import type { Principal } from '../auth';
import { BadRequestError, ConflictError, NotFoundError } from '../errors';
import { newId } from '../ids';
import type { JobRunner } from '../jobs';
import type { MachineService } from '../machines';
import type { SnapshotService } from '../snapshots';
import { runSchedule, type ScheduleBackups } from './run';

/** The longest the timer sleeps before looking again (a clock change, a schedule added elsewhere). */
const MAX_SLEEP_MS = 60_000;

export interface ScheduleOptions {
  /** The clock: tests pass one they move. */
  now?: () => number;
  /** Look for due schedules by a timer (the server); tests call `tick()` themselves. */
  timer?: boolean;
}

/** The next time a cron expression fires after `after`, in its time zone; null when never again. */
export function nextRun(cron: string, timeZone: string, after: number): number | null {
  return new Cron(cron, { paused: true, timezone: timeZone }).nextRun(new Date(after))?.getTime() ?? null;
}

/** A schedule's next run after `after`: by its cron, or (an undo ring) `everyMs` later. */
export function nextRunOf(row: Pick<ScheduleRow, 'cron' | 'timeZone' | 'everyMs'>, after: number): number | null {
  return row.everyMs ? after + row.everyMs : nextRun(row.cron, row.timeZone, after);
}

/**
 * Snapshot schedules: a cron in a time zone for a machine or every machine with a tag. A run is a
 * job: checkpoint each machine (live when it runs, disk when stopped, as its driver can), then
 * prune what the schedule took that falls out of its retention. A schedule due when the server
 * starts (runs missed while it was down) runs once; its next run is then counted from now.
 */
export class ScheduleService {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Schedules whose run is under way: a due schedule is not started twice. */
  private readonly running = new Set<string>();
  /** The tick under way: the timer's and start()'s never overlap (both would see a schedule due and fire it). */
  private ticking: Promise<unknown> = Promise.resolve();

  /** Backups after each checkpoint, where a schedule asks for them (set once by createCore). */
  backups: ScheduleBackups | null = null;

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly machines: MachineService,
    private readonly snapshots: SnapshotService,
    private readonly opts: ScheduleOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The snapshot schedules (undo rings show on their machine's undo view). */
  async list(): Promise<Schedule[]> {
    const [rows, ms] = await Promise.all([listScheduleRows(this.store), listMachines(this.store)]);
    return rows.filter((r) => r.kind === 'snapshot').map((r) => this.view(r, ms));
  }

  /** A machine's schedules: its own and those of its tags. */
  async forMachine(m: Pick<Machine, 'id' | 'tags'>): Promise<Schedule[]> {
    return (await this.list()).filter((s) => s.machineId === m.id || (s.tag !== null && m.tags.includes(s.tag)));
  }

  async get(id: string): Promise<Schedule> {
    const row = await getScheduleRow(this.store, id);
    if (!row) throw new NotFoundError('Schedule');
    return this.view(row, await listMachines(this.store));
  }

  async create(p: Principal, input: CreateScheduleBody): Promise<Schedule> {
    const body = createScheduleBodySchema.parse(input);
    const machine = body.machine === undefined ? null : await this.machines.row(body.machine);
    const now = this.now();
    const row: ScheduleRow = {
      id: newId('sch'),
      machineId: machine?.id ?? null,
      tag: body.tag ?? null,
      cron: body.cron,
      timeZone: body.timeZone,
      keepJson: JSON.stringify(body.keep),
      enabled: true,
      createdBy: p.user.id,
      createdAt: now,
      updatedAt: now,
      nextRunAt: nextRun(body.cron, body.timeZone, now),
      lastRunAt: null,
      lastStatus: null,
      lastJobId: null,
      lastError: null,
      backupTargetId: body.backup ? (await this.backupTarget(body.backup.target)).id : null,
      backupKeep: body.backup?.keep ?? null,
      kind: 'snapshot',
      everyMs: null,
    };
    await insertSchedule(this.store, row);
    this.arm();
    return this.get(row.id);
  }

  async remove(id: string): Promise<Schedule> {
    const s = await this.get(id);
    await deleteScheduleRow(this.store, id);
    return s;
  }

  /** Run a schedule at once (its next run stays as it was). */
  async runNow(p: Principal, id: string): Promise<Job> {
    const row = await getScheduleRow(this.store, id);
    if (!row) throw new NotFoundError('Schedule');
    if (this.running.has(id)) throw new ConflictError('This schedule is running already.');
    return (await this.fire(row, p.user.id)).job;
  }

  /** Start the timer (the server); due schedules, missed while it was down, run now, once each. */
  async start(): Promise<Job[]> {
    this.stopped = false;
    for (const row of await this.ownRows())
      if (row.lastStatus === 'running') await updateScheduleRow(this.store, row.id, { lastStatus: 'failed', lastError: 'the server stopped during this run' });
    return this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Run every enabled schedule that is due by the clock, once, and count its next run from now. One tick at a time. */
  tick(): Promise<Job[]> {
    const r = this.ticking.then(() => this.tickOnce());
    this.ticking = r.catch(() => undefined);
    return r;
  }

  private async tickOnce(): Promise<Job[]> {
    const now = this.now();
    const started: Job[] = [];
    for (const row of await this.ownRows()) {
      if (!row.enabled || this.running.has(row.id)) continue;
      if (row.nextRunAt === null || row.nextRunAt > now) continue;
      // The next run from now, whatever slots passed meanwhile: missed runs collapse into this one.
      await updateScheduleRow(this.store, row.id, { nextRunAt: nextRunOf(row, now) });
      started.push((await this.fire(row, row.createdBy)).job);
    }
    this.arm();
    return started;
  }

  private async fire(row: ScheduleRow, ownerId: string | null): Promise<{ job: Job; done: Promise<Job> }> {
    this.running.add(row.id);
    const keep = JSON.parse(row.keepJson) as Keep;
    try {
      const what = row.machineId
        ? await this.machines.row(row.machineId).then(
            (m) => m.name,
            () => 'a machine gone',
          )
        : `tag ${row.tag}`;
      const title = row.kind === 'undo' ? `Undo point of ${what}` : `Scheduled snapshot of ${what} (${row.cron})`;
      const r = await this.jobs.start({ kind: 'schedule.run', title, ownerId }, async (ctx) => {
        await updateScheduleRow(this.store, row.id, { lastRunAt: this.now(), lastStatus: 'running', lastJobId: ctx.jobId, lastError: null });
        const targets = await this.targets(row);
        const deps = { store: this.store, machines: this.machines, snapshots: this.snapshots, backups: this.backups, now: this.now };
        return runSchedule(deps, row, keep, targets, ctx);
      });
      r.done
        .then((j) => updateScheduleRow(this.store, row.id, { lastStatus: j.state === 'succeeded' ? 'succeeded' : 'failed', lastError: j.error ?? null }))
        .catch(() => undefined) // the schedule was deleted meanwhile
        .finally(() => this.running.delete(row.id));
      return r;
    } catch (err) {
      this.running.delete(row.id);
      throw err;
    }
  }

  private async targets(row: ScheduleRow): Promise<MachineBase[]> {
    // A node checkpoints its own machines only (in a cluster, a tag's machines on other nodes wait for a later step).
    const all = (await listMachineRows(this.store)).filter((m) => isOwnRow(this.store, m.nodeId)).map(toMachineBase);
    return all.filter((m) => m.id === row.machineId || (row.tag !== null && m.tags.includes(row.tag)));
  }

  /**
   * The schedules this node runs: those of its own machines; a tag's schedules run on the founder
   * (one node fires each). Every schedule on one node.
   */
  private async ownRows(): Promise<ScheduleRow[]> {
    const rows = await listScheduleRows(this.store);
    if (!this.store.node) return rows;
    const ids = [...new Set(rows.map((r) => r.machineId).filter((id): id is string => !!id))];
    const own = new Set((await getMachineRowsByIds(this.store, ids)).filter((m) => isOwnRow(this.store, m.nodeId)).map((m) => m.id));
    return rows.filter((r) => (r.machineId ? own.has(r.machineId) : this.store.node!.founder));
  }

  /** Sleep until the nearest next run (at most a minute), then tick; again after a schedule changed. */
  arm(): void {
    if (!this.opts.timer || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    void listScheduleRows(this.store)
      .then((rows) => {
        if (this.stopped) return;
        const next = Math.min(...rows.filter((r) => r.enabled && r.nextRunAt !== null).map((r) => r.nextRunAt!), this.now() + MAX_SLEEP_MS);
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.tick().catch(() => this.arm()), Math.max(0, next - this.now()));
        this.timer.unref();
      })
      .catch(() => undefined); // the store is closing
  }

  private async backupTarget(ref: string): Promise<{ id: string }> {
    if (!this.backups) throw new BadRequestError('Backups are not available here.');
    return this.backups.targets.row(ref);
  }

  private view(r: ScheduleRow, ms: Pick<MachineBase, 'id' | 'name'>[]): Schedule {
    return {
      id: r.id,
      machineId: r.machineId,
      machineName: r.machineId ? (ms.find((m) => m.id === r.machineId)?.name ?? null) : null,
      tag: r.tag,
      cron: r.cron,
      timeZone: r.timeZone,
      keep: JSON.parse(r.keepJson) as Keep,
      enabled: r.enabled,
      createdBy: r.createdBy,
      createdAt: r.createdAt,
      nextRunAt: r.nextRunAt,
      lastRunAt: r.lastRunAt,
      lastStatus: r.lastStatus,
      lastJobId: r.lastJobId,
      lastError: r.lastError,
      backup: r.backupTargetId ? { targetId: r.backupTargetId, keep: r.backupKeep ?? 1 } : null,
    };
  }
}
