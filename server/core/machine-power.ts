import { plainLog } from '@/lib/console-text';
import type { StopMachineBody } from '@/lib/contracts/machines';
import type { MachinePatch, MachineRow } from '@/db/repo/machines';
import { logSince, logSize } from '@/server/drivers/shared/log-console';
import type { Fixups, MachineDriver, MachineSpec, StartFrom } from '@/server/drivers/types';
import type { HostService } from './host';
import type { PreparedBoot } from './hot-pool';
import { pullsOci, type ImageService } from './images';
import type { JobContext } from './jobs';
import { blankBoot } from './machine-admission';
import type { MachineViews } from './machine-views';

/**
 * A booting guest that writes nothing on its console for `quietMs` is given up on; one that goes on
 * writing, after `maxMs` (systemd's "A start job is running" line is rewritten every second, so a
 * boot stuck on a unit counts as writing: this bounds it).
 */
const BOOT_WAIT = { quietMs: 90_000, maxMs: 300_000, pollMs: 100 };

/** The last lines of a console log from byte `from` on, as plain text (blank ones left out), for a job's log. */
export function consoleTail(file: string, from = 0, lines = 15): string[] {
  return plainLog(logSince(file, from, 4096))
    .split('\n')
    .filter((l) => l.trim())
    .slice(-lines);
}

/**
 * A start from a snapshot: its files, the fix-ups after it, and a callback once the guest runs again.
 * `prepared`: a hot snapshot's standby's boot files and host facts (its memory was counted while it waited).
 */
export type StartFromSnapshot = StartFrom & { fixups: Fixups; onRunning?: () => void; prepared?: PreparedBoot };

/** What starting and stopping need of the machine service (an interface: the two modules do not import each other). */
export interface PoweredMachines {
  readonly views: MachineViews;
  row(id: string): Promise<MachineRow>;
  toSpec(row: MachineRow): MachineSpec;
  driver(kind: MachineRow['driver']): MachineDriver;
  patch(id: string, patch: MachinePatch): Promise<MachineRow | undefined>;
  preflight(id: string | null, memoryMib: number, ports: MachineSpec['ports']): Promise<void>;
  onGone(id: string): void;
}

/** Boot and shutdown of a machine inside a job: progress and log lines in its driver's words. */
export class MachinePower {
  constructor(
    private readonly machines: PoweredMachines,
    private readonly images: ImageService,
    private readonly host: HostService,
  ) {}

  /** Boot, or with `from` carry on from a snapshot (no boot: the guest continues, then gets its fix-ups). */
  async start(id: string, ctx: JobContext, base: number, from?: StartFromSnapshot, known?: MachineRow): Promise<void> {
    const row = known ?? (await this.machines.row(id));
    const spec = this.machines.toSpec(row);
    const driver = this.machines.driver(row.driver);
    // Independent reads, side by side: a restore waits for this before its qemu starts.
    const ph = from?.phases;
    const beside = <T>(name: string, work: Promise<T>) => (ph?.beside ? ph.beside(name, work) : work);
    // A row written as `starting` already (a fork's): no second write for it, and a refused check marks it failed.
    const starting = row.state === 'starting';
    // A standby's process exists already: its memory counted against the limit while it waited (and the
    // fork job's own check counted it again), its boot files and host facts are those it started with.
    const checks = from?.prepared
      ? Promise.resolve([undefined, from.prepared.image, from.prepared.host] as const)
      : Promise.all([
          beside('preflight', this.machines.preflight(id, row.memoryMib, spec.ports)),
          // A driver that pulls OCI images itself (ociPull) needs no copy of one on this node.
          beside(
            'image_files',
            Promise.resolve(row.image ? this.images.files(row.image, { pull: pullsOci(this.machines.views.describe(row.driver)) }) : blankBoot()),
          ),
          beside('host_info', this.host.info()),
        ]);
    const [, image, host] = await checks.catch(async (err: Error) => {
      if (starting) await this.machines.patch(id, { state: 'failed', stateReason: err.message }).catch(() => undefined);
      throw err;
    });
    ph?.mark('start_checks');
    if (!starting) await this.machines.patch(id, { state: 'starting', stateReason: null });
    ctx.progress(base + 10, this.machines.views.describe(row.driver).words.starting);
    ph?.mark('record_starting');
    // The machine as this start knows it, pid included: the row may be gone by the time we clean up (destroy).
    let live: MachineSpec = spec;
    try {
      const started = await driver.start(spec, image, { host, from });
      live = { ...spec, runtime: { ...spec.runtime, ...started.runtime } };
      // A start from a snapshot: the guest runs from here on (the records follow).
      from?.onRunning?.();
      await this.machines.patch(id, { runtime: live.runtime });
      for (const line of started.log) ctx.log(line);
      if (from) {
        from.phases?.mark('record_runtime');
        // The clock and RNG fix-ups are what make a restore safe to use; a guest without the agent still runs.
        await driver.fixup(live, from.fixups).then(
          () => ctx.log('guest fix-ups done: clock set, RNG reseeded' + (from.fixups.hostname ? `, hostname ${from.fixups.hostname}` : '')),
          (err: Error) => ctx.log(`warning: ${err.message}`),
        );
        from.phases?.mark('fixups');
      } else {
        ctx.progress(base + 20, 'Booting');
        // This boot's part of the console log: from its size now (a log that shrank was rotated: all of it).
        const logFile = driver.consoleLog(live);
        const logFrom = logSize(logFile);
        const exited = await waitReady(driver, live, logFile, ctx.signal, BOOT_WAIT).catch((err: Error) => {
          // What the guest said last is what tells why it did not come up.
          const from = logSize(logFile) >= logFrom ? logFrom : 0;
          if (!ctx.signal.aborted) for (const line of consoleTail(logFile, from)) ctx.log(`console: ${line}`);
          throw err;
        });
        // An application container whose command is done already: it ran, and stopped.
        if (exited) {
          ctx.log(exited);
          await this.machines.patch(id, { state: 'stopped', stateReason: exited });
          return;
        }
      }
      await this.machines.patch(id, { state: 'running' });
    } catch (err) {
      if (driver.isRunning(live)) await driver.stop(live, { force: true, timeoutMs: 0 });
      await this.machines.patch(id, { state: 'failed', stateReason: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      throw err;
    }
  }

  /** Shut down (ACPI or the container's init; hard when forced or late); returns the row as written. */
  async stop(id: string, ctx: JobContext, opts: StopMachineBody, known?: MachineRow): Promise<MachineRow | undefined> {
    const row = known ?? (await this.machines.row(id));
    const spec = this.machines.toSpec(row);
    await this.machines.patch(id, { state: 'stopping' });
    ctx.progress(20, opts.force ? 'Stopping (force)' : `ACPI shutdown (up to ${opts.timeoutS} s)`);
    const { clean, runtime } = await this.machines.driver(row.driver).stop(spec, { force: opts.force, timeoutMs: opts.timeoutS * 1000 });
    ctx.log(clean ? 'guest powered off cleanly' : opts.force ? 'stopped hard (force)' : 'guest did not power off in time: stopped hard');
    this.machines.onGone(id);
    return this.machines.patch(id, { state: 'stopped', stateReason: clean ? null : 'Stopped hard (no clean shutdown).', runtime });
  }

  /**
   * After a crash in the middle of a checkpoint: the process may be left paused (resume it), and
   * may already write to a new disk layer the record does not know yet (the driver repairs it).
   */
  async recover(id: string): Promise<void> {
    const row = await this.machines.row(id);
    const spec = this.machines.toSpec(row);
    const driver = this.machines.driver(row.driver);
    if (!driver.isRunning(spec)) return;
    const repaired = await driver.repair(spec);
    if (repaired) await this.machines.patch(id, { runtime: repaired });
    if (row.state === 'running') await driver.resume(spec).catch(() => undefined);
  }
}

/**
 * Ready when the driver says the guest booted; for an application container whose command
 * ended already, how it ended. A destroy meanwhile cancels the job (the signal). The guest has
 * `quietMs` from the start and from each write to its console log (`log`, the driver's consoleLog): a guest slowed by a busy
 * host (TCG on 2 shared cores) is still booting while it writes, and is given up on only when
 * it falls silent, or after `maxMs` in all.
 */
export async function waitReady(
  driver: MachineDriver,
  spec: MachineSpec,
  log: string,
  signal: AbortSignal,
  wait: { quietMs: number; maxMs: number; pollMs: number },
): Promise<string | null> {
  const start = Date.now();
  let size = logSize(log);
  let heard = start;
  for (;;) {
    signal.throwIfAborted();
    if (driver.isReady(spec)) return null;
    if (!driver.isRunning(spec)) {
      const exited = driver.exitReason?.(spec);
      if (exited) return exited;
      throw new Error('The machine exited during boot: see its console log.');
    }
    const now = Date.now();
    const grown = logSize(log);
    if (grown !== size) [size, heard] = [grown, now];
    if (now - start >= wait.maxMs) throw new Error(`The guest did not report ready within ${wait.maxMs / 1000} s.`);
    if (now - heard >= wait.quietMs) {
      const after = Math.round((now - start) / 1000);
      throw new Error(`The guest did not report ready: nothing on its console for ${wait.quietMs / 1000} s (${after} s after the start).`);
    }
    await new Promise((r) => setTimeout(r, wait.pollMs));
  }
}
