import { createHash } from 'node:crypto';
import path from 'node:path';
import type { z } from 'zod';
import type { DriverRuntime } from '../types';

/**
 * A parser of one driver's record of its machines, by that driver's zod schema: fields the
 * driver knows are checked (older records lack some; unknown ones are kept for the next
 * write), and a damaged record fails with a message saying what is wrong instead of a crash
 * deep in the driver. Parsed once per record object (drivers ask often: every monitor tick).
 */
export function runtimeParser<S extends z.ZodType<Record<string, unknown>>>(driver: string, schema: S): (runtime: DriverRuntime) => z.infer<S> {
  const parsed = new WeakMap<object, z.infer<S>>();
  return (runtime) => {
    const known = parsed.get(runtime);
    if (known) return known;
    const r = schema.safeParse(runtime);
    if (!r.success) {
      const why = r.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
      throw new Error(`The ${driver} record of this machine is damaged (${why}): destroy and create it again.`);
    }
    parsed.set(runtime, r.data);
    return r.data;
  };
}

/**
 * A tag of the node a machine's dir is on (8 hex of its machines dir): names a container or cgroup
 * of the host gets per node, so two nodes on one host (a move between them: the machine's id on both
 * for a moment) never share one.
 */
export const nodeTag = (machineDir: string): string =>
  createHash('sha256')
    .update(path.dirname(path.resolve(machineDir)))
    .digest('hex')
    .slice(0, 8);
