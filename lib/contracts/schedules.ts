import { Cron } from 'croner';
import { z } from 'zod';
import { idSchema, timestampSchema } from './common';
import { tagSchema } from './machines';

/** Retention like restic's `forget --keep-*`: the newest `last`, and the newest of each of so many hours, days, weeks, months. */
export const KEEP_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly'] as const;
export type KeepRule = (typeof KEEP_RULES)[number];
const count = z.number().int().min(0).max(1000).optional();
export const keepSchema = z
  .object({ last: count, hourly: count, daily: count, weekly: count, monthly: count })
  .strict()
  .refine((k) => KEEP_RULES.some((r) => (k[r] ?? 0) > 0), 'would keep nothing: set at least one of last, hourly, daily, weekly, monthly above 0');
export type Keep = z.infer<typeof keepSchema>;

/** Why a cron expression does not parse (croner's words), or null when it does. */
export function cronError(expr: string): string | null {
  try {
    new Cron(expr, { paused: true });
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const cronSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .superRefine((s, ctx) => {
    const why = cronError(s);
    if (why) ctx.addIssue({ code: 'custom', message: `not a cron expression: ${why}` });
  })
  .describe('five fields (minute hour day month weekday), or six with seconds first: "0 3 * * *" is 03:00 every day');
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, 'not a time zone (an IANA name such as UTC or Europe/Berlin)')
  .describe('the IANA time zone the cron expression and the retention buckets are read in');

export const scheduleStatusSchema = z.enum(['running', 'succeeded', 'failed']);

export const scheduleSchema = z.object({
  id: idSchema,
  /** One machine, or every machine with `tag` (exactly one is set). */
  machineId: z.string().nullable(),
  machineName: z.string().nullable(),
  tag: z.string().nullable(),
  cron: z.string(),
  timeZone: z.string(),
  keep: keepSchema,
  enabled: z.boolean(),
  createdBy: z.string().nullable(),
  createdAt: timestampSchema,
  nextRunAt: timestampSchema.nullable(),
  lastRunAt: timestampSchema.nullable(),
  lastStatus: scheduleStatusSchema.nullable(),
  lastJobId: z.string().nullable(),
  lastError: z.string().nullable(),
  /** After each checkpoint: back it up to this target, keeping the schedule's newest `keep` backups there. */
  backup: z.object({ targetId: z.string(), keep: z.number().int() }).nullable(),
});
export type Schedule = z.infer<typeof scheduleSchema>;

/** Back each new snapshot up to a target (id or name), with its own keep-last-N there. */
export const scheduleBackupSchema = z.object({ target: z.string().min(1).max(64), keep: z.number().int().min(1).max(1000) }).strict();

export const createScheduleBodySchema = z
  .object({
    /** A machine name or id; or `tag` instead. */
    machine: z.string().min(1).max(63).optional(),
    tag: tagSchema.optional(),
    cron: cronSchema,
    timeZone: timeZoneSchema.default('UTC'),
    keep: keepSchema,
    backup: scheduleBackupSchema.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.machine === undefined) === (b.tag === undefined))
      ctx.addIssue({ code: 'custom', path: ['machine'], message: 'name a machine or a tag (one of them)' });
  });
export type CreateScheduleBody = z.input<typeof createScheduleBodySchema>;

/** A machine's own schedule: the machine is the one in the path. */
export const createMachineScheduleBodySchema = z
  .object({ cron: cronSchema, timeZone: timeZoneSchema.default('UTC'), keep: keepSchema, backup: scheduleBackupSchema.optional() })
  .strict();
