import type { ImageKind } from '@/lib/contracts/images';
import type { DriverKind } from '@/lib/contracts/machines';
import { probeHost } from './host';
import { busyboxRecipe } from './images/busybox';
import { DEBIAN_RELEASES, debianRecipeFor } from './images/debian';
import { NspawnDriver } from './nspawn/driver';
import { PodmanDriver } from './podman/driver';
import { spawnPty } from './pty';
import { QemuDriver } from './qemu/driver';
import { RemoteDriver } from './remote/driver';
import type { DriverRegistry, ImageRecipe, MachineDriver } from './types';

/**
 * The real drivers, image recipes and host probe: the one place that maps a kind to its
 * implementation. createCore makes one (tests pass a fake instead); nothing keeps it globally.
 */
export function createDriverRegistry(): DriverRegistry {
  const drivers: Partial<Record<DriverKind, MachineDriver>> = {
    qemu: new QemuDriver(),
    nspawn: new NspawnDriver(),
    podman: new PodmanDriver(),
    ssh: new RemoteDriver(),
  };
  const recipes = {
    busybox: busyboxRecipe,
    ...Object.fromEntries(DEBIAN_RELEASES.map((r) => [r.kind, debianRecipeFor(r)])),
  } as Record<ImageKind, ImageRecipe>;
  return {
    get(kind) {
      const d = drivers[kind];
      if (!d) throw new Error(`The ${kind} driver is not available in this build.`);
      return d;
    },
    all: () => Object.values(drivers),
    recipe: (kind) => recipes[kind],
    probeHost: (opts) => probeHost(opts),
    hostShell: ({ cols, rows }) => spawnPty([process.env.SHELL || '/bin/bash', '-l'], { cols, rows, cwd: process.env.HOME || '/' }),
  };
}
