import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { findStep as findBuiltin, type StepSpec } from '@/lib/steps/catalog';
import { projectRoot } from '../paths';
import { STEP_RUNNERS, type StepMachine } from './builtins';
import { DEFAULT_STEP_LIMITS, runUserStep, type StepLimits } from './step-process';

/**
 * A user step: a TypeScript (or JavaScript) module in the steps directory whose default export
 * is `{ name, version, transient?, args?, usage?, fromWords?, run(machine, args) }`. `args` is a
 * zod schema (default: any words as `{ words: [...] }`). The module's source is part of the
 * step's version, so editing it invalidates what it cached.
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

export interface LoadedStep {
  spec: StepSpec;
  /** Runs the step in a process of its own (step-process.ts), never in the server's. */
  run: (m: StepMachine, args: Record<string, unknown>) => Promise<void>;
  file: string;
  limits: StepLimits;
}

const NAME = /^[a-z][a-z0-9.-]{0,63}$/;

/**
 * The steps directory, compiled with esbuild into the data dir (imports such as zod resolve from
 * Hangar's own node_modules) and imported for what it describes (name, version, argument schema,
 * fromWords: the server checks chains with them); reloaded when a file changes. A module that does
 * not load or has the wrong shape is reported, not fatal: the other steps still work. Its `run`
 * never runs here: each run imports the module again in a process of its own (step-process.ts).
 */
export class StepRegistry {
  private loaded = new Map<string, { hash: string; steps: LoadedStep[] }>();
  /** Problems from the last scan, by file, for the catalog. */
  problems: { file: string; error: string }[] = [];

  constructor(
    private readonly dir: string,
    private readonly buildDir: string,
  ) {}

  async scan(): Promise<Map<string, LoadedStep>> {
    const out = new Map<string, LoadedStep>();
    this.problems = [];
    let files: string[];
    try {
      files = fs
        .readdirSync(this.dir)
        .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts'))
        .sort();
    } catch {
      return out;
    }
    for (const f of files) {
      const file = path.join(this.dir, f);
      try {
        for (const s of await this.load(file)) {
          if (findBuiltin(s.spec.name) || out.has(s.spec.name)) throw new Error(`a step named "${s.spec.name}" exists already`);
          out.set(s.spec.name, s);
        }
      } catch (err) {
        this.problems.push({ file, error: (err as Error).message });
      }
    }
    return out;
  }

  private async load(file: string): Promise<LoadedStep[]> {
    const source = fs.readFileSync(file);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
    const cached = this.loaded.get(file);
    if (cached?.hash === hash) return cached.steps;
    const { build } = await import('esbuild');
    fs.mkdirSync(this.buildDir, { recursive: true, mode: 0o700 });
    const outfile = path.join(this.buildDir, `${path.basename(file).replace(/\.[^.]+$/, '')}-${hash}.mjs`);
    await build({
      entryPoints: [file],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      nodePaths: [path.join(projectRoot(), 'node_modules')],
    });
    const mod = (await import(pathToFileURL(outfile).href)) as { default?: unknown };
    const exported = Array.isArray(mod.default) ? mod.default : [mod.default];
    const steps = exported.map((m) => this.toStep(m as UserStepModule, hash, file, outfile));
    this.loaded.set(file, { hash, steps });
    return steps;
  }

  private toStep(m: UserStepModule, hash: string, file: string, compiled: string): LoadedStep {
    if (!m || typeof m !== 'object' || typeof m.run !== 'function') throw new Error('the default export is not a step: { name, version, run(machine, args) }');
    if (typeof m.name !== 'string' || !NAME.test(m.name)) throw new Error(`step name ${JSON.stringify(m.name)}: lowercase letters, digits, dots and dashes`);
    if (typeof m.version !== 'string' && typeof m.version !== 'number') throw new Error(`${m.name}: no version`);
    const schema = m.args ?? z.object({ words: z.array(z.string()).default([]) });
    if (typeof (schema as { safeParse?: unknown }).safeParse !== 'function') throw new Error(`${m.name}: args is not a zod schema`);
    const limit = (v: unknown, what: string, min: number, max: number, dflt: number) => {
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`${m.name}: ${what} must be a number from ${min} to ${max}`);
      return v;
    };
    const limits = {
      timeoutS: limit(m.timeoutS, 'timeoutS', 1, 24 * 3600, DEFAULT_STEP_LIMITS.timeoutS),
      memoryMib: Math.round(limit(m.memoryMib, 'memoryMib', 32, 65536, DEFAULT_STEP_LIMITS.memoryMib)),
    };
    const name = m.name;
    return {
      file,
      limits,
      run: (machine, args) => runUserStep({ module: compiled, name, args, machine, limits }),
      spec: {
        name: m.name,
        version: `${m.version}+${hash}`,
        transient: !!m.transient,
        schema,
        usage: m.usage ?? `${m.name} ARGS...`,
        description: m.description ?? `user step from ${path.basename(file)}`,
        fromWords: (words) => (m.fromWords ? m.fromWords(words) : { words }) as never,
      },
    };
  }
}

/** Built-ins first, then the user steps of the last scan. */
export function lookup(user: Map<string, LoadedStep>) {
  return {
    find: (name: string): StepSpec | undefined => findBuiltin(name) ?? user.get(name)?.spec,
    runner: (name: string) => STEP_RUNNERS[name] ?? user.get(name)?.run,
  };
}
