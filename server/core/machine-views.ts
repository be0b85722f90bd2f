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
export interface ViewNode {
  id: string;
  name: string;
  online: boolean;
}

export class MachineViews {
  /** The cluster node of a row's node_id as the registry last saw it (set in a cluster; one node: none). */
  nodeOf: (nodeId: string | null) => ViewNode | null = () => null;

  constructor(
    private readonly drivers: DriverRegistry,
    private readonly host: Pick<HostService, 'known'>,
  ) {}

  view(row: MachineRow): Machine {
    const driver = this.drivers.get(row.driver);
    const host = this.host.known();
    const runtime = JSON.parse(row.runtimeJson) as DriverRuntime;
    const n = this.nodeOf(row.nodeId);
    const node = n ? { id: n.id, name: n.name } : null;
    // Its node is offline: what the row says may no longer be true, and nothing can reach it (view only, never written).
    const offline = n && !n.online ? { state: 'unknown' as const, stateReason: 'node offline' } : {};
    try {
      return { ...toMachineBase(row), node, ...offline, cdrom: null, firmware: null, ...driver.facts(runtime), capabilities: driver.describe(host, runtime) };
    } catch (err) {
      // A damaged record must not hide the machine (nor the rest of the list): shown with what is wrong.
      return {
        ...toMachineBase(row),
        node,
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
