import type { DriverDescription } from '@/lib/contracts/drivers';
import type { DriverInfo, Machine } from '@/lib/contracts/machines';
import { toMachineBase, type MachineRow } from '@/db/repo/machines';
import type { DriverRegistry, DriverRuntime } from '@/server/drivers/types';
import type { HostService } from './host';

/**
 * Machines as the API shows them: the row, what its driver reads from its own record (SSH,
 * network, accelerator...), and its driver's description on this host (`capabilities`), which
 * is what components, the CLI and core ask instead of comparing driver names.
 */
export class MachineViews {
  constructor(
    private readonly drivers: DriverRegistry,
    private readonly host: Pick<HostService, 'known'>,
  ) {}

  view(row: MachineRow): Machine {
    const driver = this.drivers.get(row.driver);
    const host = this.host.known();
    const runtime = JSON.parse(row.runtimeJson) as DriverRuntime;
    try {
      return { ...toMachineBase(row), cdrom: null, firmware: null, ...driver.facts(runtime), capabilities: driver.describe(host, runtime) };
    } catch (err) {
      // A damaged record must not hide the machine (nor the rest of the list): shown with what is wrong.
      return {
        ...toMachineBase(row),
        stateReason: err instanceof Error ? err.message : String(err),
        accel: null,
        ssh: null,
        network: null,
        address: null,
        command: null,
        cdrom: null,
        firmware: null,
        capabilities: driver.describe(host),
      };
    }
  }

  /** What a driver can do on this host (before any machine of it exists). */
  describe(kind: Machine['driver']): DriverDescription {
    return this.drivers.get(kind).describe(this.host.known());
  }

  /** Every driver of this build, with what it can do here. */
  all(): DriverInfo[] {
    return this.drivers.all().map((d) => ({ kind: d.kind, ...d.describe(this.host.known()) }));
  }
}
