import { z } from 'zod';
import { nameSchema } from './common';

/** One step of a chain: a catalog step by name and its arguments (checked against the step's schema). */
export const chainStepSchema = z.object({
  step: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/, 'a step name'),
  args: z.record(z.string(), z.unknown()).default({}),
  /** Or its command-line words, turned into arguments by the server (for user steps a client does not know). */
  words: z.array(z.string().max(65536)).max(4096).optional(),
});
export type ChainStep = z.infer<typeof chainStepSchema>;

export const buildBodySchema = z
  .object({
    /** The chain as written on the command line: `debian-12 + apt nginx + exec -- nginx -v`. */
    chain: z.string().min(1).max(65536).optional(),
    /** Or the steps themselves; the first is the base (os.busybox, os.debian). */
    steps: z.array(chainStepSchema).min(1).max(64).optional(),
    /** The machine that ends up in the chain's last state; a generated name when omitted. */
    name: nameSchema.optional(),
    /** Run the last step without caching it (on the resulting machine only). */
    transient: z.boolean().default(false),
    /**
     * Apply the steps (no base) to this existing machine instead of building one: each runs over its exec, in order, and
     * nothing is cached (the job log says why: its state before them is no cached result, or it cannot be snapshotted at all).
     */
    machine: nameSchema.optional(),
  })
  .refine((b) => !!b.chain !== !!b.steps, { message: 'give either chain or steps', path: ['chain'] })
  .refine((b) => !b.machine || (!b.name && !b.transient), { message: 'steps applied to a machine take no name and no transient step', path: ['machine'] });
export type BuildBody = z.input<typeof buildBodySchema>;

export const stepNodeSchema = z.object({
  key: z.string(),
  parentKey: z.string().nullable(),
  step: z.string(),
  version: z.string(),
  args: z.record(z.string(), z.unknown()),
  image: z.string(),
  driver: z.enum(['qemu', 'nspawn', 'podman', 'ssh']),
  snapshotId: z.string().nullable(),
  /** Build time of this step: what a hit saves. */
  durationMs: z.number().int(),
  hits: z.number().int(),
  lastUsedAt: z.number().int(),
  createdAt: z.number().int(),
});
export type StepNode = z.infer<typeof stepNodeSchema>;

/** A step node as the tree shows it: with its snapshot's size. */
export const stepTreeNodeSchema = stepNodeSchema.extend({ sizeBytes: z.number().int() });

export const buildResultSchema = z.object({
  machine: z.string(),
  /** Steps taken from the cache (base included) and steps run. */
  hits: z.number().int(),
  ran: z.number().int(),
  keys: z.array(z.string()),
  /** Why nothing was cached (steps applied to an existing machine); absent when the chain was cached as it ran. */
  uncached: z.string().optional(),
});
export type BuildResult = z.infer<typeof buildResultSchema>;

export const stepInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  base: z.boolean(),
  transient: z.boolean(),
  usage: z.string(),
  description: z.string(),
});
