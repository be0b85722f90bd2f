import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { diskNameSchema, guestPathSchema, type MachineDisk } from '@/lib/contracts/disks';
import { firstLine, run } from '../exec';
import { diskUsage } from './disk-usage';
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

/** The attached volumes as host directory and guest path, for the driver's bind mounts (the guest path is made when the image lacks it). */
export const volumeBinds = (m: MachineSpec): { host: string; guest: string }[] =>
  volumesOf(m.runtime)
    .filter((v) => v.attached)
    .map((v) => ({ host: volumeDir(m.dir, v.name), guest: v.guestPath }));

const find = (m: MachineSpec, name: string): Volume => {
  const v = volumesOf(m.runtime).find((x) => x.name === name);
  if (!v) throw new Error(`no volume "${name}"`);
  return v;
};

const STOP_FIRST = 'volumes are bound when the container starts: stop it first';

/** A driver that binds volumes into a running container (its description says hotplug is available). */
export interface LiveVolumes {
  bind(m: MachineSpec, host: string, guest: string): Promise<void>;
  unbind(m: MachineSpec, guest: string): Promise<void>;
}

/** Bound or unbound now when the container runs and the driver can; else refused (core asks the description first: this guards a race with a start). */
async function plug(m: MachineSpec, isRunning: (m: MachineSpec) => boolean, live: LiveVolumes | undefined, v: Volume, attach: boolean) {
  if (!isRunning(m)) return;
  if (!live) throw new Error(STOP_FIRST);
  if (attach) await live.bind(m, volumeDir(m.dir, v.name), v.guestPath);
  else await live.unbind(m, v.guestPath);
}

/** A volume as an archive's record may name it (another host's: checked again; its contents travel as a member of their own). */
export const archivedVolumesSchema = z
  .array(z.object({ name: diskNameSchema, guestPath: guestPathSchema, attached: z.boolean() }))
  .max(64)
  .optional();

/** The volumes a snapshot's record names, for branch(). */
export const recordVolumes = (record: DriverRuntime): Volume[] => volumesOf(record);

const copyTree = async (from: string, to: string) => {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 });
  const r = await run(['cp', '-a', '--reflink=auto', '--', `${from}/.`, `${to}/`], { timeoutMs: 30 * 60_000 });
  if (r.code !== 0) throw new Error(`copying volume ${path.basename(from)} failed: ${firstLine(r.stderr)}`);
};

/** A checkpoint (the container frozen meanwhile): each volume's contents copied (reflinked where the filesystem can) into the snapshot's dir. */
export async function freezeVolumes(m: MachineSpec, snapDir: string): Promise<void> {
  for (const v of volumesOf(m.runtime)) await copyTree(volumeDir(m.dir, v.name), volumeDir(snapDir, v.name));
}

/**
 * A fork or restore: each machine gets a copy of its own of the snapshot's volumes (a restore's
 * replace the machine's); a snapshot taken before volumes were kept has none to copy: they start empty.
 */
export async function branchVolumes(snapDir: string, record: DriverRuntime, targetDir: string): Promise<Volume[]> {
  const volumes = volumesOf(record);
  fs.rmSync(path.join(targetDir, 'volumes'), { recursive: true, force: true });
  for (const v of volumes) {
    const from = volumeDir(snapDir, v.name);
    if (fs.existsSync(from)) await copyTree(from, volumeDir(targetDir, v.name));
    else fs.mkdirSync(volumeDir(targetDir, v.name), { recursive: true, mode: 0o755 });
  }
  return volumes;
}

/**
 * Container volumes: host directories under the data dir, bind-mounted at a guest path from the
 * next start. A checkpoint copies their contents into the snapshot; forks and restores get copies of their own.
 */
export function containerVolumes(isRunning: (m: MachineSpec) => boolean, live?: LiveVolumes): DiskAccess {
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
      const v = { name: nd.name, guestPath: nd.guestPath ?? `/mnt/${nd.name}`, attached: nd.attach };
      if (nd.attach && isRunning(m) && !live) throw new Error(STOP_FIRST);
      const dir = volumeDir(m.dir, nd.name);
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      try {
        if (nd.attach) await plug(m, isRunning, live, v, true);
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      return { ...m.runtime, volumes: [...volumesOf(m.runtime), v] };
    },
    async setAttached(m, name, attached) {
      const v = find(m, name);
      if (v.attached !== attached) await plug(m, isRunning, live, v, attached);
      return { ...m.runtime, volumes: volumesOf(m.runtime).map((v) => (v.name === name ? { ...v, attached } : v)) };
    },
    async remove(m, name) {
      find(m, name);
      fs.rmSync(volumeDir(m.dir, name), { recursive: true, force: true });
      return { ...m.runtime, volumes: volumesOf(m.runtime).filter((v) => v.name !== name) };
    },
  };
}
