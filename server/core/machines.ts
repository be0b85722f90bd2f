import type { Job } from '@/lib/contracts/jobs';
import { isValidId } from '@/lib/contracts/common';
import type { DriverDescription } from '@/lib/contracts/drivers';
import fs from 'node:fs';
import {
  parseSshTarget,
  type AdoptBody,
  type CreateMachineBody,
  type DriverInfo,
  type ExecBody,
  type ExecResult,
  type Machine,
  type MachineAction,
  type StopMachineBody,
} from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import {
  deleteMachine,
  getMachineRow,
  getMachineRowsByIds,
  insertMachine,
  listMachineRows,
  updateMachine,
  type MachinePatch,
  type MachineRow,
} from '@/db/repo/machines';
import { deleteMachineShares } from '@/db/repo/shares';
import { listSshKeys } from '@/db/repo/ssh-keys';
import type { BootFiles, DriverRegistry, IsoFile, MachineDriver, MachineSpec } from '@/server/drivers/types';
import type { Principal } from './auth';
import type { EventBus } from './events';
import { BadRequestError, ConflictError, machineNotFound, UnavailableError } from './errors';
import { newId } from './ids';
import type { HostService } from './host';
import { pullsOci, type ImageService } from './images';
import type { JobContext, JobRunner } from './jobs';
import { admitMachine, type Admitted } from './machine-admission';
import { LimitService, askFor } from './limits';
import { checkHostAllows, checkMemory, checkPortsFree } from './machine-guards';
import { MachineList } from './machine-list';
import { MachineLocks } from './machine-locks';
import { MachineMonitor, type MonitoredMachines } from './machine-monitor';
import { MachinePower, type StartFromSnapshot } from './machine-power';
import { MachineViews } from './machine-views';
import { isOwnRow } from '@/db/repo/own';
import { readLogPiece, resolveInside } from './paths';
import type { SettingsService } from './settings';

const ACTIVE: Machine['state'][] = ['starting', 'running', 'paused', 'stopping'];

/** Machines: lifecycle as jobs, one operation per machine at a time, state kept true to the processes. */
export class MachineService implements MonitoredMachines {
  /** The one operation each machine is in (runs of a command hold it too). */
  readonly locks = new MachineLocks();
  readonly views: MachineViews;
  private readonly monitor: MachineMonitor;
  /** Every machine and its JSON, kept until it changes (the list routes and the route guard read it). */
  readonly listing: MachineList;
  private readonly power: MachinePower;
  /** What each user may hold: checked here at create, and by snapshots at fork. */
  readonly limits: LimitService;
  /** Called when a machine goes down or away, so its console sessions can be closed. */
  onGone: (machineId: string) => void = () => undefined;
  /** The ISO library (set once it exists: it lists machines to know which ISOs are in use). */
  isos: { file(name: string): Promise<IsoFile> } = {
    file: () => Promise.reject(new UnavailableError('The ISO library is not ready.')),
  };

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly images: ImageService,
    private readonly host: HostService,
    private readonly settings: SettingsService,
    private readonly dirs: { machines: string; layers: string },
    private readonly drivers: DriverRegistry,
    private readonly now: () => number = Date.now,
  ) {
    this.views = new MachineViews(drivers, host);
    this.monitor = new MachineMonitor(store, drivers, this);
    this.listing = new MachineList(
      {
        all: async () => (await listMachineRows(store)).map((r) => this.views.view(r)),
        byIds: async (ids) => (await getMachineRowsByIds(store, ids)).map((r) => this.views.view(r)),
        one: async (ref) => {
          const row = await getMachineRow(store, isValidId(ref) ? { id: ref } : { name: ref });
          return row ? this.views.view(row) : undefined;
        },
      },
      bus,
    );
    this.power = new MachinePower(this, images, host);
    this.limits = new LimitService(store, settings, now);
    host.onProbed = () => this.listing.changedAll();
  }

  list(_p: Principal): Promise<Machine[]> {
    return this.listing.items();
  }

  /** By id or by name (names never contain `_`, ids always do). */
  async get(_p: Principal, ref: string): Promise<Machine> {
    return this.views.view(await this.row(ref));
  }

  /** The row of a machine, by id or name: the one read an operation needs. */
  async row(ref: string): Promise<MachineRow> {
    const row = await getMachineRow(this.store, isValidId(ref) ? { id: ref } : { name: ref });
    if (!row) throw machineNotFound(ref);
    return row;
  }

  /** The driver's view of a machine, for consoles and tests. */
  async spec(id: string): Promise<{ row: MachineRow; spec: MachineSpec }> {
    const row = await this.row(id);
    return { row, spec: this.toSpec(row) };
  }

  driver(kind: Machine['driver']): MachineDriver {
    return this.drivers.get(kind);
  }

  /** What a driver can do on this host (the step service asks which networks it offers). */
  describe(kind: Machine['driver']): DriverDescription {
    return this.views.describe(kind);
  }

  /** Every driver, with what it can do here (GET /api/drivers). */
  async driverList(): Promise<DriverInfo[]> {
    await this.host.info();
    return this.views.all();
  }

  /** The driver's host tools and features must be there: otherwise a clear 503, not a job that fails later. */
  async requireDriver(kind: Machine['driver'], network?: Machine['network']): Promise<void> {
    await this.host.info();
    checkHostAllows(kind, this.views.describe(kind), network);
  }

  /** A cluster: the image copied to this node when another holds it (images.copyHere), its progress in a job's log. */
  imageHere(image: string, driver: Machine['driver'], ctx: JobContext): Promise<void> {
    // Its percent stays out of the job's progress (the snapshot's copy has that part): log lines only.
    const pull = pullsOci(this.describe(driver));
    return image ? this.images.copyHere(image, { log: (line) => ctx.log(line), signal: ctx.signal }, { pull }) : Promise.resolve();
  }

  async create(p: Principal, body: CreateMachineBody): Promise<Job> {
    // An image another node holds is copied here in the job (its progress and log), not while the request waits.
    const { machine, image, row: inserted, iso } = await this.admit(p, body, undefined, true);
    const driver = this.driver(machine.driver);
    return this.lockedJob(p, machine, 'creating', { kind: 'machine.create', title: `Create ${body.name}` }, async (ctx) => {
      try {
        const spec = this.toSpec(inserted);
        const report = {
          log: (line: string) => ctx.log(line),
          progress: (pct: number, message: string) => ctx.progress(Math.min(9, Math.floor(pct / 11)), `Copying image ${body.image}: ${message}`),
          signal: ctx.signal,
        };
        if (body.image) await this.images.copyHere(body.image, report, { pull: image.oci?.pull !== undefined });
        // An OCI image another node pulled: admitted without its layers, copied into this node's store now.
        const boot = body.image && image.oci && !image.oci.pull && !image.oci.layers.length ? await this.images.files(body.image, { report }) : image;
        ctx.progress(10, machine.capabilities.words.creating);
        const runtime = {
          network: body.network,
          command: body.command,
          entrypoint: body.entrypoint,
          boot: body.boot,
          installFrom: iso,
          firmware: body.firmware,
          // Disk images with cloud-init: the seed gives root the owner's keys too, and the user-data asked for.
          cloudInit: boot.cloudInit ? { keys: (await listSshKeys(this.store, p.user.id)).map((k) => k.publicKey), userData: body.userData } : undefined,
        };
        const made = await driver.create({ ...spec, runtime }, boot);
        const row = await this.patch(machine.id, { state: 'stopped', runtime: made.runtime });
        for (const line of made.log) ctx.log(line);
        if (body.start) await this.startMachine(machine.id, ctx, 20, undefined, row);
        return { machine: machine.id };
      } catch (err) {
        await this.patch(machine.id, { state: 'failed', stateReason: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    });
  }

  /**
   * Register a machine that exists already (`hangar adopt`): its driver logs in with the key given
   * (pinning the host key) and runs a command; only then is it recorded, running as far as Hangar
   * knows. A name taken is a 409; unreachable, a refused login or a bad key a 400, with nothing kept.
   * It takes no CPUs, memory or disk of this host: it counts as one machine against the owner's limits.
   */
  async adopt(p: Principal, body: AdoptBody & { driver: Machine['driver'] }): Promise<{ machine: Machine; log: string[] }> {
    const target = parseSshTarget(body.ssh);
    if (!target) throw new BadRequestError('ssh: user@host[:port]', [{ path: 'ssh', message: 'user@host[:port]' }]);
    const d = this.views.describe(body.driver);
    const driver = this.driver(body.driver);
    if (!d.adopt.available || !driver.adopt)
      throw new BadRequestError(d.adopt.reason ?? `${d.words.kind} machines are not adopted.`, [{ path: 'driver', message: 'a driver that adopts machines' }]);
    const owner = await this.limits.chargeTo(p);
    return this.limits.admit(owner, askFor(1, { cpus: 0, memoryMib: 0, diskGib: 0 }), async () => {
      if (await getMachineRow(this.store, { name: body.name })) throw new ConflictError(`A machine named "${body.name}" exists already.`);
      const id = newId('mch');
      const dir = resolveInside(this.dirs.machines, id);
      const spec: MachineSpec = { id, name: body.name, dir, layers: this.dirs.layers, cpus: 0, memoryMib: 0, diskGib: 0, ports: [], runtime: {} };
      let made;
      try {
        made = await driver.adopt!.adopt(spec, { ...target, privateKey: body.privateKey, passphrase: body.passphrase });
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new BadRequestError(`Cannot adopt ${body.name} (${body.ssh}): ${err instanceof Error ? err.message : String(err)}`, [
          { path: 'ssh', message: 'no login there' },
        ]);
      }
      const now = this.now();
      try {
        const row = await insertMachine(this.store, {
          id,
          name: body.name,
          driver: body.driver,
          image: '',
          state: 'running',
          stateReason: null,
          cpus: 0,
          memoryMib: 0,
          diskGib: 0,
          ports: [],
          tags: body.tags ?? [],
          ownerId: owner,
          runtime: made.runtime,
          createdAt: now,
          updatedAt: now,
        });
        const machine = this.views.view(row);
        this.bus.publish('machine:update', machine);
        return { machine, log: made.log };
      } catch (err) {
        await driver.destroy(spec).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * The checks a new machine must pass (driver, name, image, disk, ports, memory), then its row,
   * `creating`; the owner's limits are checked and the row written under the owner's lock.
   */
  async admit(p: Principal, body: CreateMachineBody, files?: BootFiles, copyLater = false): Promise<Admitted> {
    const { store, images, bus, views, now, listing, isos } = this;
    const owner = await this.limits.chargeTo(p);
    return this.limits.admit(owner, askFor(1, body), () =>
      admitMachine(
        { store, images, isos, bus, views, now, listing, requireDriver: (k, n) => this.requireDriver(k, n), preflight: (...a) => this.preflight(...a) },
        p,
        body,
        files,
        owner,
        copyLater,
      ),
    );
  }

  async act(p: Principal, id: string, action: MachineAction, opts: StopMachineBody = { force: false, timeoutS: 30 }): Promise<Job> {
    // The one read of the machine for this action: the job goes on from this row and what its writes return.
    const row = await this.row(id);
    const m = this.views.view(row);
    const allowed: Record<MachineAction, Machine['state'][]> = {
      start: ['stopped', 'failed'],
      stop: ['running', 'paused', 'starting'],
      restart: ['running', 'paused'],
      pause: ['running'],
      resume: ['paused'],
    };
    if (!m.capabilities.power.available) throw new ConflictError(`Cannot ${action} ${m.name}: ${m.capabilities.power.reason ?? 'its driver does not run it'}`);
    if (!allowed[action].includes(m.state)) throw new ConflictError(`Cannot ${action} ${m.name}: it is ${m.state}.`);
    this.locks.assertFree(m.id);
    if (action === 'start') {
      await this.requireDriver(m.driver, m.network);
      await this.preflight(m.id, m.memoryMib, m.ports);
    }
    const title = `${action[0].toUpperCase()}${action.slice(1)} ${m.name}${action === 'stop' && opts.force ? ' (force)' : ''}`;
    return this.lockedJob(p, m, action, { kind: `machine.${action}`, title }, async (ctx) => {
      let now: MachineRow | undefined = row;
      if (action === 'stop' || action === 'restart') now = await this.stopMachine(m.id, ctx, opts, now);
      if (action === 'start' || action === 'restart') await this.startMachine(m.id, ctx, action === 'start' ? 0 : 50, undefined, now);
      if (action === 'pause' || action === 'resume') {
        await this.driver(m.driver)[action](this.toSpec(row));
        await this.patch(m.id, { state: action === 'pause' ? 'paused' : 'running', stateReason: null });
      }
      return { machine: m.id, action };
    });
  }

  /** A job that holds the machine's lock while `fn` runs: one operation per machine (snapshots use it too). */
  async lockedJob(p: Principal, m: Machine, what: string, meta: { kind: string; title: string }, fn: (ctx: JobContext) => Promise<unknown>): Promise<Job> {
    this.locks.lock(m.id, what);
    try {
      const { job, done } = await this.jobs.start({ ...meta, ownerId: p.user.id, machineId: m.id }, async (ctx) => {
        try {
          return await fn(ctx);
        } finally {
          this.locks.unlock(m.id);
        }
      });
      this.locks.track(m.id, job.id, done);
      return job;
    } catch (err) {
      this.locks.unlock(m.id);
      throw err;
    }
  }

  /** The machine as a systemd unit file for the host, where its driver makes one. */
  async unitFile(p: Principal, ref: string): Promise<{ name: string; unit: string }> {
    const row = await this.row(ref);
    const m = this.views.view(row);
    const driver = this.driver(m.driver);
    if (!m.capabilities.unitFile.available || !driver.unitFile)
      throw new ConflictError(`${m.name} is a ${m.driver} machine: ${m.capabilities.unitFile.reason ?? 'its driver makes no unit file'}.`);
    return { name: `hangar-${m.name}.service`, unit: driver.unitFile(this.toSpec(row)) };
  }

  /** The console log (serial line or container pty) from `from`, or its last `tail` bytes: `hangar logs`. */
  async logs(p: Principal, ref: string, q: { from?: number; tail: number }): Promise<{ text: string; next: number; size: number }> {
    const row = await this.row(ref);
    return readLogPiece(this.driver(row.driver).consoleLog(this.toSpec(row)), q);
  }

  /** The row of a machine exec may run in (its buffered and its streamed form): 409 unless it runs. */
  async execRow(ref: string): Promise<MachineRow> {
    const row = await this.row(ref);
    if (row.state !== 'running') throw new ConflictError(`${row.name} is ${row.state}: exec needs a running machine.`);
    return row;
  }

  /** Run a command in a running machine; not a job: the caller waits for its output. */
  async exec(p: Principal, ref: string, body: ExecBody): Promise<ExecResult> {
    const row = await this.execRow(ref);
    try {
      return await this.driver(row.driver).exec(this.toSpec(row), body.argv, { timeoutMs: body.timeoutS * 1000 });
    } catch (err) {
      throw new UnavailableError(err instanceof Error ? err.message : String(err));
    }
  }

  async destroy(p: Principal, id: string): Promise<Job> {
    const m = await this.get(p, id);
    // Destroy interrupts whatever runs (a start, say): cancel it and let it clean up first.
    const current = this.locks.takeForDestroy(m.id);
    const { job } = await this.jobs.start({ kind: 'machine.destroy', title: `Destroy ${m.name}`, ownerId: p.user.id, machineId: m.id }, async (ctx) => {
      try {
        if (current?.jobId) {
          ctx.log(`cancelling ${current.what} first`);
          await this.jobs.cancel(current.jobId).catch(() => undefined);
          await current.done?.catch(() => undefined);
        }
        ctx.progress(20, 'Stopping and removing files');
        await this.remove(m.id);
        return { machine: m.id };
      } finally {
        this.locks.unlock(m.id, true);
      }
    });
    return job;
  }

  /** The machine's processes, files and record gone, its consoles closed (the destroy job's work; a run's --rm too). */
  async remove(id: string): Promise<void> {
    const { row, spec } = await this.spec(id);
    await this.driver(row.driver).destroy(spec);
    this.onGone(id);
    await deleteMachineShares(this.store, id);
    await deleteMachine(this.store, id);
    this.bus.publish('machine:removed', { id });
  }

  /** Start-up: machines whose process still runs are running (or paused) again; the others say why they stopped. Then watch them. */
  async reattach(): Promise<void> {
    await this.monitor.reattach();
    this.monitor.start();
  }

  stopMonitor(): void {
    this.monitor.stop();
  }

  busy(id: string): boolean {
    return this.locks.has(id);
  }

  /** After a crash in the middle of a checkpoint: the process resumed, its record repaired (see MachinePower). */
  recoverInterrupted(id: string): Promise<void> {
    return this.power.recover(id);
  }

  /** Memory held by processes started ahead for forks (the hot pool sets it). */
  standbyMib: () => number = () => 0;

  /** Memory and port checks: at request time for a quick 409, and again in the job. */
  async preflight(id: string | null, memoryMib: number, ports: MachineSpec['ports']): Promise<void> {
    // This node's memory: another node's machines run on its own host.
    const machines = (await this.listing.items())
      .filter((m) => m.id !== id && ACTIVE.includes(m.state) && isOwnRow(this.store, m.node?.id))
      .reduce((a, m) => a + m.memoryMib, 0);
    // Hot snapshots' standbys count as the machines they will be.
    const running = machines + this.standbyMib();
    checkMemory(memoryMib, running, this.settings.get().memoryLimit);
    await checkPortsFree(ports);
  }

  /** Boot, or with `from` carry on from a snapshot; `row`: the machine as the caller just read or wrote it. */
  startMachine(id: string, ctx: JobContext, base: number, from?: StartFromSnapshot, row?: MachineRow): Promise<void> {
    return this.power.start(id, ctx, base, from, row);
  }

  /** Returns the stopped machine's row. */
  stopMachine(id: string, ctx: JobContext, opts: StopMachineBody, row?: MachineRow): Promise<MachineRow | undefined> {
    return this.power.stop(id, ctx, opts, row);
  }

  /** Write a change and tell the listeners; returns the row as written (so the caller need not read it again). */
  async patch(id: string, patch: MachinePatch): Promise<MachineRow | undefined> {
    const row = await updateMachine(this.store, id, { ...patch, updatedAt: this.now() });
    if (row) this.bus.publish('machine:update', this.views.view(row));
    return row;
  }

  /** A row as its driver sees it. */
  toSpec(row: MachineRow): MachineSpec {
    return {
      id: row.id,
      name: row.name,
      dir: resolveInside(this.dirs.machines, row.id),
      layers: this.dirs.layers,
      cpus: row.cpus,
      memoryMib: row.memoryMib,
      diskGib: row.diskGib,
      ports: JSON.parse(row.portsJson),
      runtime: JSON.parse(row.runtimeJson),
    };
  }
}
