import { z } from 'zod';
import { idSchema, timestampSchema } from './common';
import { machineStates } from './machines';

/**
 * One sample of a running machine, as rates over the last sampling interval (about 2 s).
 * A figure is null when this machine's driver or this host cannot tell it (a VM's network
 * without its guest agent, a container on the host's network).
 */
export const machineStatsSampleSchema = z.object({
  t: timestampSchema,
  /** Busy share of the machine's own vCPUs (100 = all of them busy). */
  cpuPct: z.number().nullable(),
  /** Host memory the machine holds: QEMU's resident set, or the container's cgroup (page cache it can drop left out). */
  memBytes: z.number().nullable(),
  /** What the machine may hold: its RAM size, or its cgroup limit. */
  memLimitBytes: z.number().nullable(),
  /** Used inside the guest (MemTotal - MemAvailable), from the guest agent, while someone watches the machine's page. */
  guestMemBytes: z.number().nullable(),
  diskReadBps: z.number().nullable(),
  diskWriteBps: z.number().nullable(),
  /** Bytes the machine's own writable layer takes on the host's disk. */
  diskUsedBytes: z.number().nullable(),
  netRxBps: z.number().nullable(),
  netTxBps: z.number().nullable(),
});
export type MachineStatsSample = z.infer<typeof machineStatsSampleSchema>;

export const machineStatsHistorySchema = z.object({
  id: idSchema,
  /** Seconds between samples. */
  intervalS: z.number(),
  samples: z.array(machineStatsSampleSchema),
});
export type MachineStatsHistory = z.infer<typeof machineStatsHistorySchema>;

/** The last minute of every machine a caller sees that has figures (the list's sparklines). */
export const machineStatsListSchema = z.object({
  intervalS: z.number(),
  items: z.array(z.object({ id: idSchema, samples: z.array(machineStatsSampleSchema) })),
});

/** One tick of every running machine the receiver may see: the `stats:machines` event. */
export const machineStatsTickSchema = z.object({
  t: timestampSchema,
  items: z.array(machineStatsSampleSchema.extend({ id: idSchema })),
});
export type MachineStatsTick = z.infer<typeof machineStatsTickSchema>;

/** The host's figures in each tick, pushed to everyone who sees the overview (`stats:host`). */
export const hostStatsTickSchema = z.object({
  t: timestampSchema,
  cpuPct: z.number().nullable(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  memAvailableBytes: z.number(),
});
export type HostStatsTick = z.infer<typeof hostStatsTickSchema>;

/** The Hangar host: capacity, what is in use now, and what Hangar's data takes. */
export const hostUsageSchema = z.object({
  t: timestampSchema,
  cpus: z.number().int(),
  /** Busy share of all host CPUs over the last interval. */
  cpuPct: z.number().nullable(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  memTotalBytes: z.number(),
  memAvailableBytes: z.number(),
  /** The filesystem of the data dir. */
  disk: z.object({ path: z.string(), totalBytes: z.number(), freeBytes: z.number() }),
  /**
   * What Hangar's own files take on that disk: snapshots (frozen layers, device state, RAM),
   * images, and machines (their writable disk layers, RAM files and container layers).
   */
  data: z.object({ snapshotBytes: z.number(), snapshotCount: z.number().int(), imageBytes: z.number(), machineBytes: z.number().nullable() }),
  /** Machines by state (those the caller sees). */
  machines: z.record(z.enum(machineStates), z.number().int()),
  /** Handed out to machines that run now: vCPUs and MiB of RAM (the memory guard counts these). */
  allocated: z.object({ cpus: z.number().int(), memoryMib: z.number().int(), memoryLimitMib: z.number().int().nullable() }),
  /** The last six minutes of ticks, oldest first (empty until someone had the dashboard open). */
  history: z.array(hostStatsTickSchema),
});
export type HostUsage = z.infer<typeof hostUsageSchema>;

/** A socket asks for the guest-side figures (network, guest memory) of the machine whose page it shows; null stops. */
export const statsWatchSchema = z.object({ machineId: idSchema.nullable() });
