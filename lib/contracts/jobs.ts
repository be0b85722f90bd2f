import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

export const jobStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const jobStateSchema = z.enum(jobStates);
export type JobState = z.infer<typeof jobStateSchema>;
export const isFinished = (s: JobState): boolean => s === 'succeeded' || s === 'failed' || s === 'cancelled';

export const jobSchema = z.object({
  id: idSchema,
  kind: z.string(),
  title: z.string(),
  state: jobStateSchema,
  progress: z.number().min(0).max(100),
  message: z.string(),
  error: z.string().nullable(),
  result: z.unknown().nullable(),
  ownerId: idSchema.nullable(),
  machineId: idSchema.nullable(),
  /** The job that started this one (a build's create, checkpoints and forks): null for a job a person started. */
  parentId: idSchema.nullable().describe("The job that started this one (a build's create, checkpoints and forks); null for a job a person started"),
  createdAt: timestampSchema,
  startedAt: timestampSchema.nullable(),
  finishedAt: timestampSchema.nullable(),
});
export type Job = z.infer<typeof jobSchema>;

export const jobLogLineSchema = z.object({ seq: z.number().int(), ts: timestampSchema, line: z.string() });
export type JobLogLine = z.infer<typeof jobLogLineSchema>;

export const jobListQuerySchema = z.object({
  state: jobStateSchema.optional(),
  parent: idSchema.optional().describe('Only the jobs this job started (its children)'),
});

export const jobLogQuerySchema = z.object({ after: z.coerce.number().int().min(-1).default(-1) });

export const demoJobBodySchema = z.object({
  seconds: z.number().min(0.1).max(600).default(5),
  steps: z.number().int().min(1).max(100).default(10),
  fail: z.boolean().default(false),
  /** Sub-jobs it starts and waits for, one after another (each a demo job of its own): shows nesting. */
  children: z.number().int().min(0).max(5).default(0),
});
export type DemoJobBody = z.infer<typeof demoJobBodySchema>;
