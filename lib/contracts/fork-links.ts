import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/**
 * Fork links: whoever opens one gets a private running fork of a snapshot, with its console in
 * the browser, for a while. The owner sets how many forks the link may make and how long each lives.
 */
export const forkLinkSchema = z.object({
  id: idSchema,
  snapshotId: idSchema,
  snapshotLabel: z.string().nullable(),
  /** The machine the snapshot came from ("now" of a running machine), if any. */
  machineId: idSchema.nullable(),
  label: z.string().nullable(),
  maxForks: z.number().int().positive(),
  /** Forks made (or starting) through it: a fork that failed to start gave its slot back. */
  used: z.number().int().nonnegative(),
  lifetimeSeconds: z.number().int().positive(),
  cpus: z.number().int().positive().nullable(),
  memoryMib: z.number().int().positive().nullable(),
  createdBy: z.string().nullable(),
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
  revokedAt: timestampSchema.nullable(),
  state: z.enum(['active', 'expired', 'revoked', 'used_up']),
});
export type ForkLink = z.infer<typeof forkLinkSchema>;

export const createForkLinkBodySchema = z
  .object({
    /** A snapshot (id, or its label when one snapshot has it)... */
    snapshot: z.string().min(1).max(120).optional(),
    /** ...or a running machine: a live checkpoint is taken now and the link forks from that instant. */
    machine: z.string().min(1).max(64).optional(),
    maxForks: z.number().int().min(1).max(100).default(5),
    /** How long each fork lives before the server destroys it. Default 2 h, at most 7 days. */
    lifetimeSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86400)
      .default(7200),
    /** How long the link opens new forks. Default 1 day, at most 30 days. */
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86400)
      .default(86400),
    /** Per fork; a live snapshot's forks keep the snapshot's memory (it is in the saved state). */
    cpus: z.number().int().min(1).max(64).optional(),
    memoryMib: z.number().int().min(64).max(262144).optional(),
    label: z.string().trim().min(1).max(64).optional(),
  })
  .refine((b) => !!b.snapshot !== !!b.machine, { message: 'give either a snapshot or a machine', path: ['snapshot'] });
export type CreateForkLinkBody = z.input<typeof createForkLinkBodySchema>;

/** The token is shown once; the link is the page that opens a fork with it. */
export const createdForkLinkSchema = z.object({ link: forkLinkSchema, token: z.string(), path: z.string() });
export type CreatedForkLink = z.infer<typeof createdForkLinkSchema>;

export const forkLinkForkStates = ['starting', 'running', 'failed', 'destroyed', 'adopted'] as const;

/** One fork made through a link: who opened it (their address and browser), when, and what became of it. */
export const forkLinkForkSchema = z.object({
  id: idSchema,
  linkId: idSchema,
  machineId: idSchema.nullable(),
  machineName: z.string().nullable(),
  machineState: z.string().nullable(),
  state: z.enum(forkLinkForkStates),
  reason: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: timestampSchema,
  /** When the server destroys it (its lifetime). */
  expiresAt: timestampSchema,
  endedAt: timestampSchema.nullable(),
});
export type ForkLinkFork = z.infer<typeof forkLinkForkSchema>;

export const revokeForkLinkQuerySchema = z.object({
  /** What becomes of its forks: destroyed (default) or kept (their consoles close either way). */
  forks: z.enum(['destroy', 'keep']).default('destroy'),
});

export const forkActionSchema = z.enum(['stop', 'destroy', 'adopt']);
export type ForkAction = z.infer<typeof forkActionSchema>;

export const openForkLinkBodySchema = z.object({ token: z.string().min(8).max(200) });

/** What the opener gets: their own fork, and a share credential that opens its console only. */
export const openedForkSchema = z.object({
  machine: z.object({ id: idSchema, name: z.string(), state: z.string() }),
  /** A share-link token for this fork alone (operator on it): the console page sends it. */
  share: z.string(),
  /** The fork is destroyed then. */
  expiresAt: timestampSchema,
  /** True when this browser had opened the link before and got its fork back. */
  reopened: z.boolean(),
  label: z.string().nullable(),
});
export type OpenedFork = z.infer<typeof openedForkSchema>;
