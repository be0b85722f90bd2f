import { z } from 'zod';
import { nodeTag, runtimeParser } from '../shared/runtime';
import type { MachineSpec } from '../types';

/** podman's record of a container: the image it runs (imported root, or a snapshot's commit), its network and command. */
export const podmanRuntimeSchema = z.looseObject({
  image: z.string().optional(),
  network: z.enum(['private', 'host']).optional(),
  ssh: z.boolean().optional(),
  command: z.array(z.string()).nullable().optional(),
  /** An OCI image pulled by podman: what goes to `podman run` (null: the image's own), podman resolving the rest. */
  oci: z.object({ entrypoint: z.array(z.string()).nullable(), args: z.array(z.string()).nullable() }).optional(),
  /** The podman container's name since its last start (older records: `hangar-ID`; see containerName). */
  container: z
    .string()
    .regex(/^hangar-[A-Za-z0-9_-]{1,80}$/)
    .optional(),
  /** The image a move brought it to this node in (move.ts): its own, removed with it (a restore runs another image, not this one). */
  moveImage: z.string().optional(),
  /** The console holder; null once stopped. */
  pid: z.number().int().nullable().optional(),
  serialFrom: z.number().int().nonnegative().optional(),
});

export const podmanRuntime = runtimeParser('podman', podmanRuntimeSchema);

/** An application container's command (argv), or null for a shell container. */
export const commandOf = (m: Pick<MachineSpec, 'runtime'>): string[] | null => {
  const c = podmanRuntime(m.runtime).command;
  return c && c.length > 0 ? c : null;
};

export const hostNetwork = (m: Pick<MachineSpec, 'runtime'>): boolean => podmanRuntime(m.runtime).network === 'host';

/** The container's name in podman: as its last start named it, else (started before names had a node's tag) `hangar-ID`. */
export const containerName = (m: Pick<MachineSpec, 'id' | 'runtime'>): string => podmanRuntime(m.runtime).container ?? `hangar-${m.id}`;

/**
 * The name a start gives the container: its id and a tag of this node's machines dir, so two nodes on
 * one host, which share podman's storage, never name one container alike (a move between them).
 */
export const containerFor = (m: Pick<MachineSpec, 'id' | 'dir'>): string => `hangar-${m.id}-${nodeTag(m.dir)}`;
