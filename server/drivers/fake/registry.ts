import fs from 'node:fs';
import path from 'node:path';
import type { Capability, HostInfo } from '@/lib/contracts/host';
import { capabilityNames } from '@/lib/contracts/host';
import type { ImageKind } from '@/lib/contracts/images';
import type { DriverKind } from '@/lib/contracts/machines';
import type { DriverRegistry, ImageRecipe } from '../types';
import { FakeConsole } from './console';
import { FakeDriver } from './driver';

/** A host where everything works (or, with `missing`, where those features do not). */
export function fakeHost(missing: Partial<Record<Capability['name'], string>> = {}): HostInfo {
  return {
    hostname: 'fake',
    kernel: 'Linux fake',
    cpus: 2,
    memoryMib: 4096,
    probedAt: 0,
    probeMs: 0,
    capabilities: capabilityNames.map((name) => ({
      name,
      available: !(name in missing),
      reason: missing[name] ?? `${name}: fake`,
      version: null,
      details: {},
    })),
  };
}

/** An image recipe that writes empty boot files (and a root directory for Debian's) at once. */
function fakeRecipe(kind: ImageKind): ImageRecipe {
  return {
    kind,
    recipe: { kind, fake: true },
    legacyBoot: { append: '', ssh: false, diskBytes: 0 },
    async build(scratch, ctx) {
      ctx.progress(50, 'fake build');
      fs.mkdirSync(scratch, { recursive: true });
      for (const f of ['kernel', 'initrd.img', 'disk.qcow2']) fs.writeFileSync(path.join(scratch, f), '');
      if (kind !== 'busybox') fs.mkdirSync(path.join(scratch, 'rootfs'));
      return { sizeBytes: 1, boot: { append: '', ssh: kind !== 'busybox', diskBytes: 0 }, facts: { fake: true } };
    },
  };
}

export interface FakeRegistry extends DriverRegistry {
  /** The fake behind a kind (each kind has one). */
  fake(kind: DriverKind): FakeDriver;
  readonly shells: FakeConsole[];
  host: HostInfo;
}

/** Drivers for unit tests: one FakeDriver per kind unless given, a host probe that answers at once. */
export function fakeRegistry(opts: { drivers?: FakeDriver[]; host?: HostInfo } = {}): FakeRegistry {
  const drivers = new Map<DriverKind, FakeDriver>((['qemu', 'nspawn', 'podman'] as const).map((k) => [k, new FakeDriver(k)]));
  for (const d of opts.drivers ?? []) drivers.set(d.kind, d);
  const shells: FakeConsole[] = [];
  const reg: FakeRegistry = {
    host: opts.host ?? fakeHost(),
    shells,
    fake: (kind) => drivers.get(kind)!,
    get: (kind) => drivers.get(kind)!,
    all: () => [...drivers.values()],
    recipe: fakeRecipe,
    probeHost: async () => reg.host,
    hostShell: () => {
      const c = new FakeConsole();
      shells.push(c);
      return c;
    },
  };
  return reg;
}
