import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { findStep as findBuiltin, type StepSpec } from '@/lib/steps/catalog';
import { projectRoot } from '../paths';
import { STEP_RUNNERS, type StepMachine } from './builtins';

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
  run(machine: StepMachine, args: Record<string, unknown>): Promise<void>;
}

export interface LoadedStep {
  spec: StepSpec;
  run: (m: StepMachine, args: Record<string, unknown>) => Promise<void>;
  file: string;
}

const NAME = /^[a-z][a-z0-9.-]{0,63}$/;

/**
 * The steps directory, compiled with esbuild into the data dir (imports such as zod resolve from
 * Hangar's own node_modules) and imported; reloaded when a file changes. A module that does not
 * load or has the wrong shape is reported, not fatal: the other steps still work.
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
    const steps = exported.map((m) => this.toStep(m as UserStepModule, hash, file));
    this.loaded.set(file, { hash, steps });
    return steps;
  }

  private toStep(m: UserStepModule, hash: string, file: string): LoadedStep {
    if (!m || typeof m !== 'object' || typeof m.run !== 'function') throw new Error('the default export is not a step: { name, version, run(machine, args) }');
    if (typeof m.name !== 'string' || !NAME.test(m.name)) throw new Error(`step name ${JSON.stringify(m.name)}: lowercase letters, digits, dots and dashes`);
    if (typeof m.version !== 'string' && typeof m.version !== 'number') throw new Error(`${m.name}: no version`);
    const schema = m.args ?? z.object({ words: z.array(z.string()).default([]) });
    if (typeof (schema as { safeParse?: unknown }).safeParse !== 'function') throw new Error(`${m.name}: args is not a zod schema`);
    return {
      file,
      run: (machine, args) => m.run(machine, args),
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
