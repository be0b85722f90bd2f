import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { runtimeParser } from '../shared/runtime';
import type { MachineSpec } from '../types';
import { machineFiles, type GuestRam } from './argv';
import type { SshTarget } from '../ssh';

/**
 * QEMU's record of a machine. Every field is optional: machines made by older versions lack
 * some (before disk layers, `disk`; before file-backed RAM, `ramPath`), and the driver falls
 * back to the machine's own directory for those.
 */
export const qemuRuntimeSchema = z.looseObject({
  /** The daemonized qemu process; null once stopped. */
  pid: z.number().int().nullable().optional(),
  mac: z.string().optional(),
  accel: z.enum(['kvm', 'tcg']).optional(),
  /** Where this boot's output starts in the serial log. */
  serialFrom: z.number().int().nonnegative().optional(),
  /** The image runs sshd: the machine has a key pair, and while running a forwarded port. */
  ssh: z.boolean().optional(),
  sshPort: z.number().int().nullable().optional(),
  /** The guest RAM file and whether it is the machine's own (shared) or a snapshot's mapped privately. */
  ramPath: z.string().optional(),
  ramShared: z.boolean().optional(),
  /** This run has a screen (false: started from a live snapshot saved before machines had one). */
  display: z.boolean().optional(),
  /** The writable qcow2 layer under the layers dir. */
  disk: z.string().optional(),
  /** An ISO install: no image (an empty disk), a CD-ROM drive; boots with `firmware` (see cdrom.ts). */
  installer: z.boolean().optional(),
  /** The library ISO in the drive (its name, shown, and its file); null: empty. */
  cdrom: z.object({ name: z.string(), path: z.string() }).nullable().optional(),
  /** The next start boots the CD once (until the guest's first reboot): set at create, cleared by the first start. */
  bootCdOnce: z.boolean().optional(),
  firmware: z.enum(['bios', 'uefi']).optional(),
  /** Made from a disk image: it boots its own kernel from the disk, with its cloud-init seed in a CD-ROM drive (seed.ts). */
  ownKernel: z.boolean().optional(),
  seed: z.string().optional(),
  /** What the seed says besides who the machine is (its owner's keys, the user-data): a fork's own seed says the same. */
  cloudInit: z.object({ keys: z.array(z.string()), userData: z.string().optional() }).optional(),
  /** A process started ahead for a fork of a hot snapshot, waiting on `-incoming defer` (standby.ts); cleared once it runs. */
  standby: z.boolean().optional(),
  /** The standby's device state is loaded already (the guest paused): its fork only continues it. */
  standbyLoaded: z.boolean().optional(),
});
export type QemuRuntime = z.infer<typeof qemuRuntimeSchema>;

export const qemuRuntime = runtimeParser('qemu', qemuRuntimeSchema);

/** The machine's writable disk layer (machines made before layers existed keep theirs in their own dir). */
export const diskOf = (m: MachineSpec): string => qemuRuntime(m.runtime).disk ?? machineFiles(m.dir).disk;

/** A new writable layer's file name for a machine. */
export const newLayer = (m: { id: string; layers: string }) => path.join(m.layers, `${m.id}-${randomBytes(4).toString('hex')}.qcow2`);

/** A locally administered MAC in QEMU's 52:54:00 range, random per machine (forks get their own). */
export function randomMac(): string {
  const b = randomBytes(3);
  return `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/** Where the driver reaches a machine's sshd, or null for images without one. */
export function sshTarget(m: MachineSpec): SshTarget | null {
  const port = qemuRuntime(m.runtime).sshPort;
  if (typeof port !== 'number') return null;
  const f = machineFiles(m.dir);
  return { port, user: 'root', keyFile: f.sshKey, knownHostFile: f.knownHost };
}

/** The running machine's RAM file: its own shared one unless it was started from a snapshot's. */
export function ramOf(m: MachineSpec): GuestRam {
  const { ramPath, ramShared } = qemuRuntime(m.runtime);
  return typeof ramPath === 'string' ? { path: ramPath, shared: ramShared !== false } : { path: machineFiles(m.dir).ram, shared: true };
}

/** True when `pid` is alive and is still a qemu process (pids get reused). */
export function isQemuPid(pid: unknown): boolean {
  if (typeof pid !== 'number' || pid <= 1) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('qemu-system');
  } catch {
    return false;
  }
}

export const readPid = (file: string): number | null => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
};

/** The machine's qemu pid: the recorded one, else its pid file (a start cut off before recording it). */
export function pidOf(m: MachineSpec): number | null {
  const pid = qemuRuntime(m.runtime).pid;
  if (isQemuPid(pid)) return pid as number;
  const fromFile = readPid(machineFiles(m.dir).pid);
  return fromFile && isQemuPid(fromFile) ? fromFile : null;
}

/** Polls every millisecond at first (a killed qemu is usually gone within a few), then every 10. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const start = Date.now();
  while (Date.now() < start + ms) {
    if (!isQemuPid(pid)) return true;
    await new Promise((r) => setTimeout(r, Date.now() - start < 100 ? 1 : 10));
  }
  return !isQemuPid(pid);
}
