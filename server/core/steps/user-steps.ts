import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChainStep } from '@/lib/contracts/steps';
import { findStep as findBuiltin } from '@/lib/steps/catalog';
import { argsError, ChainError, checkPlace, checkStep, wordsToArgs } from '@/lib/steps/chain';
import { projectRoot } from '../paths';
import { STEP_RUNNERS, type StepMachine } from './builtins';
import { DEFAULT_HOST_OPTIONS, StepHost, type StepHostOptions } from './step-host';
import { runUserStep } from './step-process';
import type { CheckInput, CheckResult, StepDescription, StepLimits } from './user-step-shape';

/** What the catalog, the keys and the chain checks know of a step, built-in or user. */
export interface StepInfo {
  name: string;
  version: string;
  base: boolean;
  transient: boolean;
  usage: string;
  description: string;
}

export interface LoadedStep {
  info: StepInfo;
  /** Words or arguments checked by the step's fromWords and schema, in its module's process (step-host.ts). */
  check: (input: CheckInput) => Promise<CheckResult>;
  /** Runs the step in a process of its own (step-process.ts), never in the server's. */
  run: (m: StepMachine, args: Record<string, unknown>) => Promise<void>;
  file: string;
  limits: StepLimits;
}

/** The steps of the last scan, and the modules that did not load with why. */
export interface StepScan {
  steps: Map<string, LoadedStep>;
  problems: { file: string; error: string }[];
}

type Entry = { hash: string; host: StepHost | null; result: Promise<LoadedStep[]>; broken?: string };

/**
 * The steps directory, compiled with esbuild into the data dir (imports such as zod resolve from
 * Hangar's own node_modules). A module's code never runs in the server: a process of its own
 * (step-host.ts) loads it once per content hash for what it describes (name, version, usage,
 * limits) and checks arguments with its fromWords and schema when a chain names its steps; each
 * run imports it again in another (step-process.ts). A module that does not compile, does not
 * load (its top level throws, hangs or eats memory) or has the wrong shape is reported, not fatal:
 * the other steps still work.
 */
export class StepRegistry {
  private readonly loaded = new Map<string, Entry>();

  constructor(
    private readonly dir: string,
    private readonly buildDir: string,
    private readonly hostOptions: StepHostOptions = DEFAULT_HOST_OPTIONS,
  ) {}

  async scan(): Promise<StepScan> {
    const steps = new Map<string, LoadedStep>();
    const problems: StepScan['problems'] = [];
    let files: string[];
    try {
      files = fs
        .readdirSync(this.dir)
        .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts'))
        .sort()
        .map((f) => path.join(this.dir, f));
    } catch {
      files = [];
    }
    for (const [file, e] of this.loaded) {
      if (files.includes(file)) continue;
      e.host?.close();
      this.loaded.delete(file);
    }
    // Modules load side by side (one that hangs costs its time limit once, not once per module), a few at a time.
    const results = await pool(files, 4, (file) =>
      this.load(file).then(
        (s) => ({ file, steps: s }),
        (err: Error) => ({ file, error: err.message }),
      ),
    );
    for (const r of results) {
      if ('error' in r) {
        problems.push({ file: r.file, error: r.error });
        continue;
      }
      try {
        for (const s of r.steps) if (findBuiltin(s.info.name) || steps.has(s.info.name)) throw new Error(`a step named "${s.info.name}" exists already`);
        for (const s of r.steps) steps.set(s.info.name, s);
      } catch (err) {
        problems.push({ file: r.file, error: (err as Error).message });
      }
    }
    return { steps, problems };
  }

  /** Ends the modules' processes (the server is stopping). */
  close(): void {
    for (const e of this.loaded.values()) e.host?.close();
  }

  private async load(file: string): Promise<LoadedStep[]> {
    const source = fs.readFileSync(file);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
    const cached = this.loaded.get(file);
    if (cached?.hash === hash) {
      if (cached.broken) throw new Error(cached.broken);
      return cached.result;
    }
    cached?.host?.close();
    const entry: Entry = { hash, host: null, result: null! };
    entry.result = this.compile(file, hash).then(
      async (outfile) => {
        entry.host = new StepHost(outfile, this.hostOptions, (why) => (entry.broken = why));
        return (await entry.host.describe()).map((d) => this.toStep(d, entry.host!, hash, file, outfile));
      },
      (err: Error) => {
        // Compiling runs none of its code: tried again at the next scan (a helper it imports may have been fixed since).
        if (this.loaded.get(file) === entry) this.loaded.delete(file);
        throw err;
      },
    );
    this.loaded.set(file, entry);
    return entry.result;
  }

  private async compile(file: string, hash: string): Promise<string> {
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
    return outfile;
  }

  private toStep(d: StepDescription, host: StepHost, hash: string, file: string, compiled: string): LoadedStep {
    const limits = { timeoutS: d.timeoutS, memoryMib: d.memoryMib };
    const name = d.name;
    return {
      file,
      limits,
      check: (input) => host.check(name, input),
      run: (machine, args) => runUserStep({ module: compiled, name, args, machine, limits }),
      info: {
        name,
        version: `${d.version}+${hash}`,
        base: false,
        transient: d.transient,
        usage: d.usage ?? `${name} ARGS...`,
        description: d.description ?? `user step from ${path.basename(file)}`,
      },
    };
  }
}

/** `fn` over the items, at most `n` at a time; results in the items' order. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** A user step's words or arguments checked in its module's process, as a chain error the way a built-in's are. */
async function checkUser(u: LoadedStep, st: ChainStep, index: number): Promise<ChainStep> {
  checkPlace(st.step, false, index);
  let r: CheckResult;
  try {
    r = await u.check(st.words ? { words: st.words } : { args: st.args });
  } catch (err) {
    throw new ChainError(`${st.step}: checking its arguments failed: ${(err as Error).message}`);
  }
  if (r.ok) return { step: st.step, args: r.args };
  if ('issue' in r) throw argsError(st.step, u.info.usage, r.issue);
  throw new ChainError(`${st.step}: ${r.error}`);
}

/** Built-ins first, then the user steps of a scan. */
export function lookup({ steps: user }: StepScan) {
  return {
    info: (name: string): StepInfo | undefined => {
      const b = findBuiltin(name);
      return b ? { name, version: b.version, base: !!b.base, transient: !!b.transient, usage: b.usage, description: b.description } : user.get(name)?.info;
    },
    runner: (name: string) => STEP_RUNNERS[name] ?? user.get(name)?.run,
    /** A step of a chain (by words or by arguments) checked against its schema: a 400's ChainError when it does not suit. */
    check: async (st: ChainStep, index: number): Promise<ChainStep> => {
      const u = findBuiltin(st.step) ? undefined : user.get(st.step);
      if (!u) return checkStep(st.words ? { step: st.step, args: wordsToArgs(st.step, st.words, findBuiltin) } : st, index, findBuiltin);
      return checkUser(u, st, index);
    },
  };
}
export type Lookup = ReturnType<typeof lookup>;
