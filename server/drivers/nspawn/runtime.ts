import { z } from 'zod';
import { ociProcessSchema } from '../oci/bundle';
import { nodeTag, runtimeParser } from '../shared/runtime';
import type { MachineSpec } from '../types';

/**
 * nspawn's record of a container. Containers made before snapshots have no `lowers`, before
 * NAT no `network` (private) or `netIndex`; each falls back to what those versions did.
 */
export const nspawnRuntimeSchema = z.looseObject({
  /** The image's root filesystem, lowest layer of the overlay. */
  rootfs: z.string().optional(),
  /** An OCI image's unpacked layers over `rootfs` (then an empty shim), lowest first. */
  imageLayers: z.array(z.string()).optional(),
  /** An OCI image's process (env, cwd, numeric user), written into the bundle nspawn reads. */
  oci: ociProcessSchema.optional(),
  /** Frozen layers of the snapshots it descends from, lowest first. */
  lowers: z.array(z.string()).optional(),
  network: z.enum(['private', 'nat', 'host']).optional(),
  /** Its /30 on the NAT network, and the container's address there. */
  netIndex: z.number().int().nullable().optional(),
  address: z.string().nullable().optional(),
  /** Offers login shells (through nsenter). */
  ssh: z.boolean().optional(),
  /** An application container's command (no init); null for an OS container. */
  command: z.array(z.string()).nullable().optional(),
  /** Asked on create for an OCI image: replaces its Entrypoint (and Cmd). */
  entrypoint: z.array(z.string()).nullable().optional(),
  /** Asked on create for an OCI image: boot its systemd (an OS container) instead of running its entrypoint. */
  boot: z.boolean().optional(),
  /** The console holder and nspawn under it; null once stopped. */
  pid: z.number().int().nullable().optional(),
  nspawnPid: z.number().int().nullable().optional(),
  serialFrom: z.number().int().nonnegative().optional(),
  /** Its cgroup's name under hangar/ since its last start (older records: the machine's id; see cgroupOf). */
  cgroup: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/)
    .optional(),
});
export type NspawnRuntime = z.infer<typeof nspawnRuntimeSchema>;

export const nspawnRuntime = runtimeParser('nspawn', nspawnRuntimeSchema);

export type NetworkMode = 'private' | 'nat' | 'host';
export const networkOf = (rt: { network?: NetworkMode }): NetworkMode => rt.network ?? 'private';

/** An application container's command (argv), or null for an OS container. */
export const commandOf = (m: Pick<MachineSpec, 'runtime'>): string[] | null => {
  const c = nspawnRuntime(m.runtime).command;
  return c && c.length > 0 ? c : null;
};

export const lowersOf = (m: Pick<MachineSpec, 'runtime'>): string[] => nspawnRuntime(m.runtime).lowers ?? [];

/** Everything under the machine's upper dir, lowest first: an OCI image's layers, then the snapshots' frozen layers. */
export const stackOf = (m: Pick<MachineSpec, 'runtime'>): string[] => [...(nspawnRuntime(m.runtime).imageLayers ?? []), ...lowersOf(m)];

/** The container's cgroup name (under hangar/): as its last start named it, else (started before names had a node's tag) its id. */
export const cgroupOf = (m: Pick<MachineSpec, 'id' | 'runtime'>): string => nspawnRuntime(m.runtime).cgroup ?? m.id;

/**
 * The cgroup name a start gives the container: its id and a tag of this node's machines dir, so two
 * nodes on one host (a move between them: the machine's id on both for a moment) never share one.
 */
export const cgroupFor = (m: Pick<MachineSpec, 'id' | 'dir'>): string => `${m.id}-${nodeTag(m.dir)}`;
