import type { DriverKind } from '@/lib/contracts/machines';
import { NspawnDriver } from './nspawn/driver';
import { PodmanDriver } from './podman/driver';
import { QemuDriver } from './qemu/driver';
import type { MachineDriver } from './types';

/** The one place that maps a driver kind to its implementation. */
const drivers: Partial<Record<DriverKind, MachineDriver>> = { qemu: new QemuDriver(), nspawn: new NspawnDriver(), podman: new PodmanDriver() };

export function driverFor(kind: DriverKind): MachineDriver {
  const d = drivers[kind];
  if (!d) throw new Error(`The ${kind} driver is not available in this build.`);
  return d;
}
