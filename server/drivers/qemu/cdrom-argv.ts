import fs from 'node:fs';
import path from 'node:path';
import type { Firmware } from '@/lib/contracts/isos';

/** OVMF from Debian's `ovmf` package: the code (mapped read-only, shared by every machine) and the variable store each machine copies. */
export const OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };

/** The CD-ROM drive's qdev id (QMP eject and blockdev-change-medium name it) and its block backend. */
export const CDROM_ID = 'cdrom0';
const CDROM_DRIVE = 'cd0';

let ovmfThere: boolean | null = null;
/** The host has OVMF (checked once: describe() runs for every machine in every listing). */
export function hasOvmf(): boolean {
  ovmfThere ??= fs.existsSync(OVMF.code) && fs.existsSync(OVMF.vars);
  return ovmfThere;
}

/** A machine's own copy of the UEFI variable store (boot entries the installer writes live there). */
export const ovmfVarsOf = (dir: string) => path.join(dir, 'OVMF_VARS.fd');

/**
 * What an ISO-install machine adds to the command line. `installer`: the machine has no image
 * (an empty disk): no kernel of its own, a CD-ROM drive on the board's IDE bus (with the ISO, or
 * empty), and a guest reboot is a reboot (the installer's last step), not the end of the process.
 */
export interface CdromSpec {
  installer: boolean;
  /** The ISO file in the drive; null: an empty drive. */
  iso: string | null;
  /** Boot the CD this once: the next reset (the installer's reboot) goes back to the normal order, disk first. */
  bootOnce: boolean;
  firmware: Firmware;
}

/** Options that take one value each, from the kernel boot the image machines do. */
const KERNEL_OPTS = new Set(['-kernel', '-initrd', '-append']);

/**
 * The image machine's argv turned into an installer's (see CdromSpec): the direct kernel boot and
 * -no-reboot taken out, the drive, the boot order and the firmware put in. Unchanged without one.
 */
export function withCdrom(spec: { cdrom?: CdromSpec; dir: string }, argv: string[]): string[] {
  const c = spec.cdrom;
  if (!c?.installer) return argv;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (KERNEL_OPTS.has(argv[i])) i++;
    else if (argv[i] !== '-no-reboot') out.push(argv[i]);
  }
  const drive = `if=none,id=${CDROM_DRIVE},media=cdrom,readonly=on${c.iso ? `,format=raw,file=${c.iso.replaceAll(',', ',,')}` : ''}`;
  const firmware =
    c.firmware === 'uefi'
      ? ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`, '-drive', `if=pflash,format=raw,unit=1,file=${ovmfVarsOf(spec.dir)}`]
      : [];
  // Legacy boot letters: c the disk, d the CD. once=d: this boot only; after a reset the default (disk, then CD) applies.
  const boot = ['-boot', c.bootOnce ? 'order=cd,once=d,menu=off' : 'order=cd,menu=off'];
  const at = out.indexOf('-nodefaults');
  return [...out.slice(0, at), '-drive', drive, '-device', `ide-cd,drive=${CDROM_DRIVE},id=${CDROM_ID},bus=ide.1`, ...boot, ...firmware, ...out.slice(at)];
}
