import fs from 'node:fs';
import path from 'node:path';
import type { MachineSpec, MoveAccess, MoveFile } from '../types';
import { holderFiles } from './holder-files';
import { checkRootfsTar, KEEP_ROOTFS, tar } from './rootfs-tar';

/**
 * What containers of every driver carry in a move besides their root: directories as tars (numeric
 * owners, xattrs: overlay whiteouts and opaque dirs survive), checked on the other node for members
 * outside their root before they are unpacked; the volumes dir and the console log.
 */

/** A driver that pauses its containers (the cgroup freezer, or podman's). */
export interface Pausable {
  pause(m: MachineSpec): Promise<void>;
  resume(m: MachineSpec): Promise<void>;
}

/** A move by restart holds the container paused while its files are packed; the move's failure resumes it. */
export const holdByPausing =
  (driver: Pausable): NonNullable<MoveAccess['hold']> =>
  async (m) => {
    await driver.pause(m);
    return () => driver.resume(m);
  };

/** `dir` packed as `name`.tar under `tmp`. */
export async function packDir(tmp: string, name: string, dir: string): Promise<MoveFile> {
  const file = path.join(tmp, `${name}.tar`);
  await tar(['-C', dir, ...KEEP_ROOTFS, '-cf', file, '.'], `packing ${name}`);
  return { name, path: file };
}

/** The arrived tar `name` checked and unpacked into `to` (made here, 0755), then removed. */
export async function unpackDir(got: Map<string, string>, name: string, to: string): Promise<void> {
  const file = got.get(name);
  if (!file) throw new Error(`${name} did not arrive`);
  await checkRootfsTar(file, name);
  fs.mkdirSync(to, { mode: 0o755 });
  await tar(['-C', to, ...KEEP_ROOTFS, '-xpf', file], `unpacking ${name}`);
  fs.rmSync(file, { force: true });
}

/** The machine's volumes (a tar) and its console log as it is now (the holder may still write a line while it is frozen). */
export async function packOwnExtras(m: MachineSpec, tmp: string): Promise<{ files: MoveFile[]; volumes: boolean }> {
  const files: MoveFile[] = [];
  const volumes = path.join(m.dir, 'volumes');
  const hasVolumes = fs.existsSync(volumes);
  if (hasVolumes) files.push(await packDir(tmp, 'volumes', volumes));
  const log = holderFiles(m.dir).log;
  if (fs.existsSync(log)) {
    fs.copyFileSync(log, path.join(tmp, 'console.log'));
    files.push({ name: 'console.log', path: path.join(tmp, 'console.log') });
  }
  return { files, volumes: hasVolumes };
}

/** packOwnExtras' files put in the machine's dir here; returns where the next start's console output begins. */
export async function placeOwnExtras(m: MachineSpec, got: Map<string, string>, volumes: boolean): Promise<number> {
  if (volumes) await unpackDir(got, 'volumes', path.join(m.dir, 'volumes'));
  const log = got.get('console.log');
  if (!log) return 0;
  fs.renameSync(log, holderFiles(m.dir).log);
  return fs.statSync(holderFiles(m.dir).log).size;
}
