import type { Job } from '@/lib/contracts/jobs';
import { isValidId } from '@/lib/contracts/common';
import type { CreateMachineBody, ExecBody, ExecResult, Machine, MachineAction, StopMachineBody } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { deleteMachine, getMachineRow, insertMachine, toMachine, updateMachine, type MachinePatch, type MachineRow } from '@/db/repo/machines';
import { deleteMachineShares } from '@/db/repo/shares';
import { MachineList } from './machine-list';
import type { CachedJson } from './cached-json';
import { unitFile } from '@/server/drivers/nspawn/unit';
import { driverFor } from '@/server/drivers/registry';
import type { BootFiles, Fixups, MachineSpec, StartFrom } from '@/server/drivers/types';
import type { Principal } from './auth';
import type { EventBus } from './events';
import { ConflictError, NotFoundError, UnavailableError } from './errors';
import type { HostService } from './host';
import { newId } from './ids';
import type { ImageService } from './images';
import type { JobContext, JobRunner } from './jobs';
import { checkImageFits, checkMachineBody, checkMemory, checkPortsFree } from './machine-guards';
import { MachineLocks } from './machine-locks';
import { MachineMonitor } from './machine-monitor';
import { readLogPiece, resolveInside } from './paths';
import type { SettingsService } from './settings';

const ACTIVE: Machine['state'][] = ['starting', 'running', 'paused', 'stopping'];

/** Machines: lifecycle as jobs, one operation per machine at a time, state kept true to the processes. */
export class MachineService {
  /** The one operation each machine is in (runs of a command hold it too). */
  readonly locks = new MachineLocks();
  private readonly monitor: MachineMonitor;
  /** Called when a machine goes down or away, so its console sessions can be closed. */
  onGone: (machineId: string) => void = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly bus: EventBus,
    private readonly images: ImageService,
    private readonly host: HostService,
    private readonly settings: SettingsService,
    private readonly dirs: { machines: string; layers: string },
    private readonly now: () => number = Date.now,
  ) {
    this.monitor = new MachineMonitor(store, this);
    this.listing = new MachineList(store, bus);
  }

  private readonly listing: MachineList;

  list(_p: Principal): Promise<Machine[]> {
    return this.listing.items();
  }

  /** `{ items, next }` as JSON (with its ETag and compressed forms), made once per change: every machine, or a page by name. */
  listJson(_p: Principal, page?: { after: string | undefined; limit: number }): Promise<CachedJson> {
    return page ? this.listing.page(page.after, page.limit) : this.listing.json();
  }

  /** A user's machines may have changed in the database without a machine event (a user deleted): read them again. */
  ownerChanged(userId: string): void {
    this.listing.ownerChanged(userId);
  }

  /** By id or name from the kept list, with its JSON: what the API's machine routes load once per request. */
  cached(ref: string): Promise<{ machine: Machine; body: CachedJson } | undefined> {
    return this.listing.one(ref);
  }

  /** By id or by name (names never contain `_`, ids always do). */
  async get(_p: Principal, ref: string): Promise<Machine> {
    const row = await getMachineRow(this.store, isValidId(ref) ? { id: ref } : { name: ref });
    if (!row) throw new NotFoundError('Machine');
    return toMachine(row);
  }

  /** The driver's view of a machine, for consoles and tests. */
  async spec(id: string): Promise<{ row: MachineRow; spec: MachineSpec }> {
    const row = await getMachineRow(this.store, { id });
    if (!row) throw new NotFoundError('Machine');
    return { row, spec: this.toSpec(row) };
  }

  /** The driver's host tool must be there: otherwise a clear 503, not a job that fails later. */
  async requireDriver(kind: Machine['driver'], network?: Machine['network']): Promise<void> {
    const caps = (await this.host.info()).capabilities;
    // Containers run on overlays of the image root: no overlayfs, no containers.
    for (const name of [kind, ...(kind === 'nspawn' ? ['overlayfs'] : []), ...(kind === 'nspawn' && network === 'nat' ? ['nat'] : [])]) {
      const cap = caps.find((c) => c.name === name);
      if (!cap?.available) throw new UnavailableError(`The ${kind} driver is unavailable on this host: ${cap?.reason ?? `${name} not probed`}`);
    }
  }

  async create(p: Principal, body: CreateMachineBody): Promise<Job> {
    const { machine, image } = await this.admit(p, body);
    return this.lockedJob(p, machine, 'creating', { kind: 'machine.create', title: `Create ${body.name}` }, async (ctx) => {
      try {
        const { row, spec } = await this.spec(machine.id);
        ctx.progress(10, row.driver === 'qemu' ? 'Creating the disk overlay' : 'Creating the writable layer');
        const runtime = await driverFor(row.driver).create({ ...spec, runtime: { network: body.network, command: body.command } }, image);
        await this.patch(machine.id, { state: 'stopped', runtime });
        ctx.log(row.driver === 'qemu' ? `disk: qcow2 overlay on image ${body.image}` : `root: overlay of image ${body.image} and the machine's own upper dir`);
        if (body.start) await this.startMachine(machine.id, ctx, 20);
        return { machine: machine.id };
      } catch (err) {
        await this.patch(machine.id, { state: 'failed', stateReason: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    });
  }

  /** The checks a new machine must pass (driver, name, image, disk, ports, memory), then its row, `creating`. */
  async admit(p: Principal, body: CreateMachineBody, files?: BootFiles): Promise<{ machine: Machine; image: BootFiles }> {
    checkMachineBody(body);
    await this.requireDriver(body.driver, body.network);
    if (await getMachineRow(this.store, { name: body.name })) throw new ConflictError(`A machine named "${body.name}" exists already.`);
    const image = files ?? (await this.images.files(body.image));
    checkImageFits(body, image);
    const taken = new Set((await this.listing.items()).flatMap((m) => m.ports.map((x) => `${x.protocol}:${x.host}`)));
    const clash = body.ports.find((x) => taken.has(`${x.protocol}:${x.host}`));
    if (clash) throw new ConflictError(`Host port ${clash.host} is forwarded to another machine already.`);
    if (body.start) await this.preflight(null, body.memoryMib, body.ports);
    const now = this.now();
    const machine = await insertMachine(this.store, {
      id: newId('mch'),
      name: body.name,
      driver: body.driver,
      image: body.image,
      state: 'creating',
      stateReason: null,
      cpus: body.cpus,
      memoryMib: body.memoryMib,
      diskGib: body.diskGib,
      ports: body.ports,
      tags: body.tags,
      ownerId: p.user.id,
      createdAt: now,
      updatedAt: now,
    });
    this.bus.publish('machine:update', machine);
    return { machine, image };
  }

  async act(p: Principal, id: string, action: MachineAction, opts: StopMachineBody = { force: false, timeoutS: 30 }): Promise<Job> {
    const m = await this.get(p, id);
    const allowed: Record<MachineAction, Machine['state'][]> = {
      start: ['stopped', 'failed'],
      stop: ['running', 'paused', 'starting'],
      restart: ['running', 'paused'],
      pause: ['running'],
      resume: ['paused'],
    };
    if (!allowed[action].includes(m.state)) throw new ConflictError(`Cannot ${action} ${m.name}: it is ${m.state}.`);
    this.locks.assertFree(m.id);
    if (action === 'start') {
      await this.requireDriver(m.driver, m.network);
      await this.preflight(m.id, m.memoryMib, m.ports);
    }
    const title = `${action[0].toUpperCase()}${action.slice(1)} ${m.name}${action === 'stop' && opts.force ? ' (force)' : ''}`;
    return this.lockedJob(p, m, action, { kind: `machine.${action}`, title }, async (ctx) => {
      if (action === 'start') await this.startMachine(m.id, ctx, 0);
      if (action === 'stop' || action === 'restart') await this.stopMachine(m.id, ctx, opts);
      if (action === 'restart') await this.startMachine(m.id, ctx, 50);
      if (action === 'pause' || action === 'resume') {
        const { row, spec } = await this.spec(m.id);
        await driverFor(row.driver)[action](spec);
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

  /** A container as a systemd unit file for the host (nspawn only). */
  async unitFile(p: Principal, ref: string): Promise<{ name: string; unit: string }> {
    const m = await this.get(p, ref);
    if (m.driver !== 'nspawn') throw new ConflictError(`${m.name} is a ${m.driver} machine: only nspawn containers export as a unit file.`);
    const { spec } = await this.spec(m.id);
    return { name: `hangar-${m.name}.service`, unit: unitFile(spec) };
  }

  /** The console log (serial line or container pty) from `from`, or its last `tail` bytes: `hangar logs`. */
  async logs(p: Principal, ref: string, q: { from?: number; tail: number }): Promise<{ text: string; next: number; size: number }> {
    const m = await this.get(p, ref);
    const { row, spec } = await this.spec(m.id);
    return readLogPiece(driverFor(row.driver).consoleLog(spec), q);
  }

  /** Run a command in a running machine; not a job: the caller waits for its output. */
  async exec(p: Principal, ref: string, body: ExecBody): Promise<ExecResult> {
    const m = await this.get(p, ref);
    if (m.state !== 'running') throw new ConflictError(`${m.name} is ${m.state}: exec needs a running machine.`);
    const { row, spec } = await this.spec(m.id);
    try {
      return await driverFor(row.driver).exec(spec, body.argv, { timeoutMs: body.timeoutS * 1000 });
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
    await driverFor(row.driver).destroy(spec);
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

  /**
   * After a crash in the middle of a checkpoint: the process may be left paused (resume it), and
   * may already write to a new disk layer the record does not know yet (adopt it).
   */
  async recoverInterrupted(id: string): Promise<void> {
    const { row, spec } = await this.spec(id);
    const driver = driverFor(row.driver);
    if (!driver.isRunning(spec)) return;
    const disk = await driver.activeDisk(spec);
    if (disk && disk !== spec.runtime.disk) await this.patch(id, { runtime: { ...spec.runtime, disk } });
    if (row.state === 'running') await driver.resume(spec).catch(() => undefined);
  }

  /** Memory and port checks: at request time for a quick 409, and again in the job. */
  async preflight(id: string | null, memoryMib: number, ports: MachineSpec['ports']): Promise<void> {
    const running = (await this.listing.items()).filter((m) => m.id !== id && ACTIVE.includes(m.state)).reduce((a, m) => a + m.memoryMib, 0);
    checkMemory(memoryMib, running, this.settings.get().memoryLimit);
    await checkPortsFree(ports);
  }

  /** Boot, or with `from` carry on from a snapshot (no boot: the guest continues, then gets its fix-ups). */
  async startMachine(id: string, ctx: JobContext, base: number, from?: StartFrom & { fixups: Fixups; onRunning?: () => void }): Promise<void> {
    const { row, spec } = await this.spec(id);
    const driver = driverFor(row.driver);
    await this.preflight(id, row.memoryMib, spec.ports);
    const image = await this.images.files(row.image);
    const host = await this.host.info();
    const accel = host.capabilities.find((c) => c.name === 'kvm')?.available ? 'kvm' : 'tcg';
    await this.patch(id, { state: 'starting', stateReason: null });
    ctx.progress(base + 10, row.driver === 'qemu' ? `Starting (qemu, ${accel})` : `Starting (${row.driver})`);
    // The machine as this start knows it, pid included: the row may be gone by the time we clean up (destroy).
    let live: MachineSpec = spec;
    try {
      const runtime = await driver.start(spec, image, accel, from);
      live = { ...spec, runtime: { ...spec.runtime, ...runtime } };
      await this.patch(id, { runtime: live.runtime });
      ctx.log(row.driver === 'qemu' ? `qemu pid ${runtime.pid}, accelerator ${accel}` : `${row.driver} holder pid ${runtime.pid}`);
      if (typeof runtime.limitsNote === 'string') ctx.log(`warning: ${runtime.limitsNote}`);
      if (from) {
        from.onRunning?.();
        // The clock and RNG fix-ups are what make a restore safe to use; a guest without the agent still runs.
        await driver.fixup(live, from.fixups).then(
          () => ctx.log('guest fix-ups done: clock set, RNG reseeded' + (from.fixups.hostname ? `, hostname ${from.fixups.hostname}` : '')),
          (err: Error) => ctx.log(`warning: ${err.message}`),
        );
      } else {
        ctx.progress(base + 20, 'Booting');
        const exited = await this.waitReady(row, live, ctx, 90_000);
        // An application container whose command is done already: it ran, and stopped.
        if (exited) {
          ctx.log(exited);
          return await this.patch(id, { state: 'stopped', stateReason: exited });
        }
      }
      await this.patch(id, { state: 'running' });
    } catch (err) {
      if (driver.isRunning(live)) await driver.stop(live, { force: true, timeoutMs: 0 });
      await this.patch(id, { state: 'failed', stateReason: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Ready when the driver says the guest booted; for an application container whose command
   * ended already, how it ended. A destroy meanwhile cancels the job (the signal).
   */
  private async waitReady(row: MachineRow, spec: MachineSpec, ctx: JobContext, ms: number): Promise<string | null> {
    const driver = driverFor(row.driver);
    const end = Date.now() + ms;
    while (Date.now() < end) {
      ctx.signal.throwIfAborted();
      if (driver.isReady(spec)) return null;
      if (!driver.isRunning(spec)) {
        const exited = driver.exitReason?.(spec);
        if (exited) return exited;
        throw new Error('The machine exited during boot: see its console log.');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`The guest did not report ready within ${ms / 1000} s.`);
  }

  async stopMachine(id: string, ctx: JobContext, opts: StopMachineBody): Promise<void> {
    const { row, spec } = await this.spec(id);
    await this.patch(id, { state: 'stopping' });
    ctx.progress(20, opts.force ? 'Stopping (force)' : `ACPI shutdown (up to ${opts.timeoutS} s)`);
    const { clean } = await driverFor(row.driver).stop(spec, { force: opts.force, timeoutMs: opts.timeoutS * 1000 });
    ctx.log(clean ? 'guest powered off cleanly' : opts.force ? 'stopped hard (force)' : 'guest did not power off in time: stopped hard');
    this.onGone(id);
    await this.patch(id, { state: 'stopped', stateReason: clean ? null : 'Stopped hard (no clean shutdown).', runtime: { ...spec.runtime, pid: null } });
  }

  async patch(id: string, patch: MachinePatch): Promise<void> {
    const m = await updateMachine(this.store, id, { ...patch, updatedAt: this.now() });
    if (m) this.bus.publish('machine:update', m);
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
