import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { MachineDisk } from '@/lib/contracts/disks';
import { diskUsage } from '../shared/disk-usage';
import type { DiskAccess, DriverRuntime, MachineSpec } from '../types';

const volumeSchema = z.object({ name: z.string(), guestPath: z.string(), attached: z.boolean() });
type Volume = z.infer<typeof volumeSchema>;
const volumesSchema = z.looseObject({ volumes: z.array(volumeSchema).optional() });

const volumesOf = (runtime: DriverRuntime): Volume[] => {
  const r = volumesSchema.safeParse(runtime);
  if (!r.success) throw new Error(`The nspawn record's volumes are damaged: ${r.error.issues[0]?.message ?? 'unreadable'}`);
  return r.data.volumes ?? [];
};

/** A volume's host directory: in the machine's own directory (it goes when the machine is destroyed). */
export const volumeDir = (dir: string, name: string) => path.join(dir, 'volumes', name);

/** The attached volumes as bind mounts (the guest path is made by nspawn when the image lacks it). */
export const volumeArgv = (m: MachineSpec): string[] =>
  volumesOf(m.runtime)
    .filter((v) => v.attached)
    .map((v) => `--bind=${volumeDir(m.dir, v.name)}:${v.guestPath}`);

const find = (m: MachineSpec, name: string): Volume => {
  const v = volumesOf(m.runtime).find((x) => x.name === name);
  if (!v) throw new Error(`no volume "${name}"`);
  return v;
};

const running = (m: MachineSpec, isRunning: (m: MachineSpec) => boolean) => {
  // Core asks the description (hotplug unavailable) first; this guards the record against a race with a start.
  if (isRunning(m)) throw new Error('volumes are bound when the container starts: stop it first');
};

/**
 * Container volumes: host directories under the data dir, bind-mounted at a guest path from the
 * next start. Not part of snapshots (like the host's own directories, they are shared, not layered).
 */
export function nspawnVolumes(isRunning: (m: MachineSpec) => boolean): DiskAccess {
  return {
    list: (m) =>
      volumesOf(m.runtime).map((v): MachineDisk => ({
        name: v.name,
        kind: 'volume',
        sizeGib: null,
        bus: null,
        guestPath: v.guestPath,
        attached: v.attached,
        usedBytes: diskUsage(volumeDir(m.dir, v.name)),
      })),
    async add(m, nd) {
      if (nd.attach) running(m, isRunning);
      fs.mkdirSync(volumeDir(m.dir, nd.name), { recursive: true, mode: 0o755 });
      return { ...m.runtime, volumes: [...volumesOf(m.runtime), { name: nd.name, guestPath: nd.guestPath ?? `/mnt/${nd.name}`, attached: nd.attach }] };
    },
    async setAttached(m, name, attached) {
      find(m, name);
      running(m, isRunning);
      return { ...m.runtime, volumes: volumesOf(m.runtime).map((v) => (v.name === name ? { ...v, attached } : v)) };
    },
    async remove(m, name) {
      find(m, name);
      fs.rmSync(volumeDir(m.dir, name), { recursive: true, force: true });
      return { ...m.runtime, volumes: volumesOf(m.runtime).filter((v) => v.name !== name) };
    },
  };
}
