import { z } from 'zod';
import type { StepMachine } from './builtins';

/**
 * A user step: a TypeScript (or JavaScript) module in the steps directory whose default export
 * (or a list of them) is `{ name, version, transient?, args?, usage?, fromWords?, run(machine, args) }`.
 * `args` is a zod schema (default: any words as `{ words: [...] }`). Its code runs only in a
 * process of its own (step-runner.ts): what is checked here is checked there, and what crosses
 * to the server is plain data (its description, its checked arguments, zod's issues).
 */
export interface UserStepModule {
  name: string;
  version: string | number;
  transient?: boolean;
  args?: z.ZodType;
  usage?: string;
  description?: string;
  fromWords?: (words: string[]) => unknown;
  /** Time limit of one run, in seconds (default 30 min): past it the step fails with a timeout. */
  timeoutS?: number;
  /** Memory limit of its process, in MiB (default 1024): its JavaScript heap, and its whole RSS with 128 MiB for Node. */
  memoryMib?: number;
  run(machine: StepMachine, args: Record<string, unknown>): Promise<void>;
}

/** A user step's limits: `timeoutS` and `memoryMib` in its module override them. */
export interface StepLimits {
  timeoutS: number;
  memoryMib: number;
}
export const DEFAULT_STEP_LIMITS: StepLimits = { timeoutS: 30 * 60, memoryMib: 1024 };

const NAME = /^[a-z][a-z0-9.-]{0,63}$/;

/** What the server knows of a user step: plain data, checked again when it arrives (it comes from the module's process). */
export const stepDescriptionSchema = z.object({
  name: z.string().regex(NAME),
  version: z.string().min(1).max(200),
  transient: z.boolean(),
  usage: z.string().max(4096).optional(),
  description: z.string().max(4096).optional(),
  timeoutS: z
    .number()
    .min(1)
    .max(24 * 3600),
  memoryMib: z.number().int().min(32).max(65536),
});
export type StepDescription = z.infer<typeof stepDescriptionSchema>;

/** What the step's schema says of arguments (from words or given): parsed (defaults filled in), or its first issue. */
export type CheckResult =
  { ok: true; args: Record<string, unknown> } | { ok: false; issue: { path: string[]; message: string } } | { ok: false; error: string };
export type CheckInput = { words: string[] } | { args: Record<string, unknown> };

const schemaOf = (m: UserStepModule): z.ZodType => m.args ?? z.object({ words: z.array(z.string()).default([]) });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** An export as a step, or an error saying what is wrong with it (the catalog lists the module with it). */
export function describeStep(m: UserStepModule): StepDescription {
  if (!m || typeof m !== 'object' || typeof m.run !== 'function') throw new Error('the default export is not a step: { name, version, run(machine, args) }');
  if (typeof m.name !== 'string' || !NAME.test(m.name)) throw new Error(`step name ${JSON.stringify(m.name)}: lowercase letters, digits, dots and dashes`);
  if (typeof m.version !== 'string' && typeof m.version !== 'number') throw new Error(`${m.name}: no version`);
  if (typeof (schemaOf(m) as { safeParse?: unknown }).safeParse !== 'function') throw new Error(`${m.name}: args is not a zod schema`);
  if (m.fromWords !== undefined && typeof m.fromWords !== 'function') throw new Error(`${m.name}: fromWords is not a function`);
  const text = (v: unknown, what: string) => {
    if (v !== undefined && typeof v !== 'string') throw new Error(`${m.name}: ${what} is not a string`);
    return v;
  };
  const limit = (v: unknown, what: string, min: number, max: number, dflt: number) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`${m.name}: ${what} must be a number from ${min} to ${max}`);
    return v;
  };
  return {
    name: m.name,
    version: String(m.version),
    transient: !!m.transient,
    usage: text(m.usage, 'usage'),
    description: text(m.description, 'description'),
    timeoutS: limit(m.timeoutS, 'timeoutS', 1, 24 * 3600, DEFAULT_STEP_LIMITS.timeoutS),
    memoryMib: Math.round(limit(m.memoryMib, 'memoryMib', 32, 65536, DEFAULT_STEP_LIMITS.memoryMib)),
  };
}

/** Words through the step's fromWords (default `{ words }`), or arguments as given, checked by its schema. */
export async function checkArgs(m: UserStepModule, input: CheckInput): Promise<CheckResult> {
  let args: unknown;
  if ('words' in input) {
    try {
      args = m.fromWords ? await m.fromWords(input.words) : { words: input.words };
    } catch (err) {
      return { ok: false, error: `fromWords threw: ${message(err)}` };
    }
  } else args = input.args;
  let r: z.ZodSafeParseResult<unknown>;
  try {
    r = await schemaOf(m).safeParseAsync(args);
  } catch (err) {
    return { ok: false, error: `its args schema threw: ${message(err)}` };
  }
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, issue: { path: issue.path.map(String), message: String(issue.message) } };
  }
  if (!r.data || typeof r.data !== 'object' || Array.isArray(r.data)) return { ok: false, error: 'its args schema does not give an object' };
  return { ok: true, args: r.data as Record<string, unknown> };
}
