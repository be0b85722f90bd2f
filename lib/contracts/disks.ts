import { z } from 'zod';

/**
 * Extra disks of a machine: a VM's qcow2 block devices (virtio-blk or virtio-scsi) beside its
 * root disk, or a container's volumes (host directories under the data dir, bind-mounted at a
 * path in the guest). Which of the two a machine has is its driver's `capabilities.disks.kind`.
 */

/** Lower-case letters, digits and dashes: a name is part of file names and QEMU device ids (so never `../`). */
export const DISK_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const diskNameSchema = z.string().regex(DISK_NAME_PATTERN, 'lower-case letters, digits and dashes, 1-32 characters, not starting with a dash');

export const diskBuses = ['virtio-blk', 'virtio-scsi'] as const;
export const diskBusSchema = z.enum(diskBuses);
export type DiskBus = z.infer<typeof diskBusSchema>;

export const MAX_DISK_GIB = 2048;
const sizeGib = z.number().int().min(1).max(MAX_DISK_GIB);

/** An absolute guest path for a volume: no `..`, no empty or dot parts, not the root. */
export const guestPathSchema = z
  .string()
  .max(255)
  .regex(/^(\/[A-Za-z0-9_.@+-]+)+$/, 'an absolute path of letters, digits and ._@+- parts')
  .refine((p) => !p.split('/').some((part) => part === '.' || part === '..'), 'no . or .. parts');

export const machineDiskSchema = z.object({
  name: z.string(),
  kind: z.enum(['disk', 'volume']),
  /** Virtual size (disks); null for volumes. */
  sizeGib: z.number().int().nullable(),
  bus: diskBusSchema.nullable(),
  /** Where a volume is mounted in the guest; null for disks. */
  guestPath: z.string().nullable(),
  /** Part of the machine (on its next start, or at once when it runs and the driver hot-plugs). */
  attached: z.boolean(),
  /** What its files take on the host. */
  usedBytes: z.number().nullable(),
});
export type MachineDisk = z.infer<typeof machineDiskSchema>;

export const addDiskBodySchema = z.object({
  name: diskNameSchema,
  /** Disks: the new disk's size (volumes have none). */
  sizeGib: sizeGib.optional(),
  bus: diskBusSchema.default('virtio-blk'),
  /** Volumes: where it is mounted in the guest. */
  guestPath: guestPathSchema.optional(),
  /** Attach it at once (hot-plugged when the machine runs and its driver can). */
  attach: z.boolean().default(true),
});
export type AddDiskBody = z.infer<typeof addDiskBodySchema>;

/** One change at a time: attach or detach, or grow to a new size. */
export const patchDiskBodySchema = z
  .object({ attached: z.boolean().optional(), sizeGib: sizeGib.optional() })
  .refine((b) => (b.attached === undefined) !== (b.sizeGib === undefined), 'give either attached or sizeGib');
export type PatchDiskBody = z.infer<typeof patchDiskBodySchema>;
