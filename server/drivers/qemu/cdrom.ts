import fs from 'node:fs';
import { firstLine, run } from '../exec';
import type { BootFiles, CdromAccess, DriverRuntime, IsoFile, MachineSpec } from '../types';
import { machineFiles } from './argv';
import { CDROM_ID, OVMF, ovmfVarsOf, type CdromSpec } from './cdrom-argv';
import { Qmp } from './qmp';
import { pidOf, qemuRuntime } from './runtime';

/** A machine with no image: what core hands create() for an ISO install (see blankBoot in core). */
export const isBlank = (image: BootFiles): boolean => image.disk === '' && image.kernel === '';

/**
 * An ISO install's create: an empty qcow2 disk of the machine's size, its own UEFI variable store
 * when it boots with UEFI, and a record saying which ISO is in the drive and that the first start
 * boots from it. `runtime.installFrom`/`runtime.firmware`: what core asked for.
 */
export async function createInstaller(m: MachineSpec, disk: string): Promise<DriverRuntime> {
  const from = m.runtime.installFrom as IsoFile | undefined;
  const firmware = m.runtime.firmware === 'uefi' ? 'uefi' : 'bios';
  const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, `${m.diskGib}G`], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
  if (firmware === 'uefi') fs.copyFileSync(OVMF.vars, ovmfVarsOf(m.dir));
  return { installer: true, cdrom: from ?? null, bootCdOnce: !!from, firmware };
}

/** What a start of this machine puts on the command line for its drive (none for image machines). */
export function cdromSpecOf(m: MachineSpec): CdromSpec | undefined {
  const rt = qemuRuntime(m.runtime);
  // A disk image's machine: its own kernel, the disk first, its seed in the drive.
  if (rt.ownKernel) return { installer: true, iso: rt.seed && fs.existsSync(rt.seed) ? rt.seed : null, bootOnce: false, firmware: rt.firmware ?? 'bios' };
  if (!rt.installer) return undefined;
  // An ISO deleted from under a stopped machine (or a data dir moved) leaves the drive empty, not the start failing.
  const iso = rt.cdrom && fs.existsSync(rt.cdrom.path) ? rt.cdrom.path : null;
  return { installer: true, iso, bootOnce: rt.bootCdOnce === true && iso !== null, firmware: rt.firmware ?? 'bios' };
}

/** Eject and insert through the machine's monitor: the guest sees the tray open and a new disc. */
export const qemuCdrom: CdromAccess = {
  async change(m: MachineSpec, iso: IsoFile | null): Promise<DriverRuntime> {
    if (!qemuRuntime(m.runtime).installer) throw new Error('This machine has no CD-ROM drive: it was made from an image, not an ISO.');
    if (pidOf(m) === null) throw new Error('The machine is not running: start it, then change the disc.');
    const q = await Qmp.connect(machineFiles(m.dir).qmpSock);
    try {
      // force: the guest may have locked the tray (a mounted disc); QEMU opens it anyway.
      if (!iso) await q.execute('eject', { id: CDROM_ID, force: true });
      else await q.execute('blockdev-change-medium', { id: CDROM_ID, filename: iso.path, format: 'raw', 'read-only-mode': 'read-only' });
    } finally {
      q.close();
    }
    return { ...m.runtime, cdrom: iso };
  },
};

/** What a snapshot of an ISO-install machine records, so its forks get the same drive and firmware (the saved devices have them). */
export function installerRecord(m: MachineSpec): Record<string, unknown> {
  const rt = qemuRuntime(m.runtime);
  if (rt.ownKernel) return { ownKernel: true, seed: rt.seed, cloudInit: rt.cloudInit, firmware: rt.firmware ?? 'bios' };
  return rt.installer ? { installer: true, cdrom: rt.cdrom ?? null, firmware: rt.firmware ?? 'bios' } : {};
}

/** The same, from a snapshot's record into a fork's. */
export const installerFields = (record: Record<string, unknown>): Record<string, unknown> =>
  record.ownKernel === true
    ? { ownKernel: true, seed: record.seed, cloudInit: record.cloudInit, firmware: record.firmware ?? 'bios' }
    : record.installer === true
      ? { installer: true, cdrom: record.cdrom ?? null, firmware: record.firmware ?? 'bios' }
      : {};

/** A UEFI machine's variable store goes with its snapshots and forks (its boot entries are the installed system's). */
export function copyOvmfVars(fromDir: string, toDir: string): void {
  if (fs.existsSync(ovmfVarsOf(fromDir))) fs.copyFileSync(ovmfVarsOf(fromDir), ovmfVarsOf(toDir));
}
