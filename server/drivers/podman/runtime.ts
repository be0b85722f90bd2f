import { z } from 'zod';
import { runtimeParser } from '../shared/runtime';
import type { MachineSpec } from '../types';

/** podman's record of a container: the image it runs (imported root, or a snapshot's commit), its network and command. */
export const podmanRuntimeSchema = z.looseObject({
  image: z.string().optional(),
  network: z.enum(['private', 'host']).optional(),
  ssh: z.boolean().optional(),
  command: z.array(z.string()).nullable().optional(),
  /** An OCI image pulled by podman: what goes to `podman run` (null: the image's own), podman resolving the rest. */
  oci: z.object({ entrypoint: z.array(z.string()).nullable(), args: z.array(z.string()).nullable() }).optional(),
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
