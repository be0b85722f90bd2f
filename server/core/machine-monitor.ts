import type { Store } from '@/db/client';
import { listMachineRowsInStates } from '@/db/repo/machines';
import { driverFor } from '@/server/drivers/registry';
import type { MachineService } from './machines';

/** Machine states kept true to the processes: at start-up (re-attach), then every 2 s. */
export class MachineMonitor {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly machines: MachineService,
  ) {}

  /** Machines whose process still runs are running (or paused) again; the others say why they stopped. */
  async reattach(): Promise<void> {
    for (const row of await listMachineRowsInStates(this.store, ['starting', 'running', 'paused', 'stopping', 'creating'])) {
      const driver = driverFor(row.driver);
      const spec = this.machines.toSpec(row);
      const status = row.state === 'creating' ? 'stopped' : await driver.status(spec);
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
  private async check(): Promise<void> {
    for (const row of await listMachineRowsInStates(this.store, ['running', 'paused'])) {
      if (this.machines.locks.has(row.id)) continue;
      const driver = driverFor(row.driver);
      const spec = this.machines.toSpec(row);
      if (!driver.isRunning(spec)) {
        await this.machines.patch(row.id, { state: 'stopped', stateReason: driver.exitReason?.(spec) ?? 'The machine powered off or its process exited.' });
        this.machines.onGone(row.id);
      }
    }
  }
}
