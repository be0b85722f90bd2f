import type { Store } from '@/db/client';
import { listMachineRowsInStates, type MachinePatch, type MachineRow } from '@/db/repo/machines';
import type { DriverRegistry, MachineSpec } from '@/server/drivers/types';

/** What the monitor needs of the machine service (kept here, so the two modules do not import each other). */
export interface MonitoredMachines {
  toSpec(row: MachineRow): MachineSpec;
  patch(id: string, patch: MachinePatch): Promise<unknown>;
  /** A machine is in an operation (a start, a checkpoint): its state is that operation's to set. */
  busy(id: string): boolean;
  onGone(id: string): void;
}

/** Machine states kept true to the processes: at start-up (re-attach), then every 2 s. */
export class MachineMonitor {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly drivers: DriverRegistry,
    private readonly machines: MonitoredMachines,
  ) {}

  /** Machines whose process still runs are running (or paused) again; the others say why they stopped. */
  async reattach(): Promise<void> {
    for (const row of await listMachineRowsInStates(this.store, ['starting', 'running', 'paused', 'stopping', 'creating'])) {
      const driver = this.drivers.get(row.driver);
      const spec = this.machines.toSpec(row);
      const status = row.state === 'creating' ? 'stopped' : await driver.status(spec).catch(() => 'stopped' as const);
      if (status === 'stopped') {
        const reason =
          row.state === 'creating'
            ? 'Creation was cut off by a server stop.'
            : (driver.exitReason?.(spec) ?? 'The machine stopped while Hangar was not running.');
        await this.machines.patch(row.id, { state: row.state === 'creating' ? 'failed' : 'stopped', stateReason: reason });
      } else if (status !== row.state) {
        await this.machines.patch(row.id, { state: status, stateReason: null });
      }
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), 2000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A machine whose process died on its own (guest poweroff, crash, kill, an application container's command ending) is marked stopped. */
  async check(): Promise<void> {
    for (const row of await listMachineRowsInStates(this.store, ['running', 'paused'])) {
      if (this.machines.busy(row.id)) continue;
      const driver = this.drivers.get(row.driver);
      const spec = this.machines.toSpec(row);
      let running: boolean;
      try {
        running = driver.isRunning(spec);
      } catch {
        // A damaged record: its machine cannot be asked; the list shows why.
        continue;
      }
      if (!running) {
        await this.machines.patch(row.id, { state: 'stopped', stateReason: driver.exitReason?.(spec) ?? 'The machine powered off or its process exited.' });
        this.machines.onGone(row.id);
      }
    }
  }
}
