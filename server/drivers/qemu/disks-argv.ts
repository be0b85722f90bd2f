import { z } from 'zod';
import { diskBusSchema } from '@/lib/contracts/disks';
import type { DriverRuntime } from '../types';

/** One extra disk in QEMU's record of a machine: its writable layer and how the guest sees it. */
export const extraDiskSchema = z.object({
  name: z.string(),
  /** The writable qcow2 layer (under the layers dir: a checkpoint freezes it, and snapshots outlive machines). */
  file: z.string(),
  sizeGib: z.number().int().positive(),
  bus: diskBusSchema,
  attached: z.boolean(),
  /** Its place, fixed for the disk's life: PCI slot 0x10 + slot (virtio-blk) or SCSI id (virtio-scsi). */
  slot: z.number().int().min(0).max(14),
});
export type ExtraDisk = z.infer<typeof extraDiskSchema>;

const extrasSchema = z.looseObject({
  disks: z.array(extraDiskSchema).optional(),
  /** The machine's QEMU has the virtio-scsi controller (a SCSI disk was attached to it once). */
  scsi: z.boolean().optional(),
});

/** The extra disks of a machine's record, and whether its QEMU has the SCSI controller. */
export function extrasOf(runtime: DriverRuntime): { disks: ExtraDisk[]; scsi: boolean } {
  const r = extrasSchema.safeParse(runtime);
  if (!r.success) throw new Error(`The qemu record's disks are damaged: ${r.error.issues[0]?.message ?? 'unreadable'}`);
  return { disks: r.data.disks ?? [], scsi: r.data.scsi === true || (r.data.disks ?? []).some((d) => d.attached && d.bus === 'virtio-scsi') };
}

/** Fixed addresses: a live snapshot's device state loads only into devices where they were when it was saved. */
export const SCSI_CONTROLLER = { driver: 'virtio-scsi-pci', id: 'scsi0', bus: 'pci.0', addr: '0x0f' } as const;
export const deviceId = (name: string) => `disk-${name}`;
/** Node names must stay under 32 characters: the slot, and a suffix per attach or checkpoint. */
export const nodeName = (d: ExtraDisk, suffix = '') => `xd${d.slot}${suffix}`;

export const blockdevOf = (d: ExtraDisk, node: string) => ({ driver: 'qcow2', 'node-name': node, file: { driver: 'file', filename: d.file } });

/** The guest device: virtio-blk at its own PCI slot, or a SCSI disk on the one controller; `serial` names it in the guest. */
export function deviceOf(d: ExtraDisk, node: string): Record<string, unknown> {
  const common = { drive: node, id: deviceId(d.name), serial: d.name.slice(0, 20) };
  return d.bus === 'virtio-scsi'
    ? { driver: 'scsi-hd', bus: 'scsi0.0', channel: 0, 'scsi-id': d.slot, lun: 0, ...common }
    : { driver: 'virtio-blk-pci', bus: 'pci.0', addr: `0x${(0x10 + d.slot).toString(16)}`, ...common };
}

/** The attached extra disks (and the SCSI controller when the record has one) as QEMU arguments, in JSON form (no comma escaping). */
export function extraDisksArgv(runtime: DriverRuntime): string[] {
  const { disks, scsi } = extrasOf(runtime);
  const argv = scsi ? ['-device', JSON.stringify(SCSI_CONTROLLER)] : [];
  for (const d of disks.filter((x) => x.attached))
    argv.push('-blockdev', JSON.stringify(blockdevOf(d, nodeName(d))), '-device', JSON.stringify(deviceOf(d, nodeName(d))));
  return argv;
}
