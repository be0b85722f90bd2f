import type { ChainStep } from '@/lib/contracts/steps';
import { BASE_ALIAS_ARGS, BASE_ALIASES, findStep } from './catalog';
import { ChainError, checkStep, type FindStep } from './chain';

/**
 * One step of a chain file from its name and value, the same in YAML and TypeScript recipes:
 * nothing (no arguments), a list (the step's command-line words), a map (its arguments), or
 * one scalar (one word). Checked against the step's schema.
 */
export function stepFromValue(name: string, value: unknown, index: number, find: FindStep = findStep, pass = false): ChainStep {
  const stepName = index === 0 ? (BASE_ALIASES[name] ?? name) : name;
  const spec = find(stepName);
  if (!spec && pass && index > 0) return passOn(stepName, value);
  if (!spec) throw new ChainError(`Unknown ${index === 0 ? 'base' : 'step'} "${name}"`);
  const args =
    value === null || value === undefined
      ? spec.fromWords([])
      : Array.isArray(value)
        ? spec.fromWords(value.map(String))
        : typeof value === 'object'
          ? value
          : spec.fromWords([String(value)]);
  return checkStep({ step: stepName, args: { ...aliasArgs(name, index), ...(args as Record<string, unknown>) } }, index, find);
}

/** What a base name carries besides its step (`debian-13`: the image). */
const aliasArgs = (name: string, index: number) => (index === 0 ? (BASE_ALIAS_ARGS[name] ?? {}) : {});

/**
 * A step this side does not know (a user step of the server's), passed on unchecked: a map as its
 * arguments, anything else as its words; the server checks it against the step's schema.
 */
function passOn(step: string, value: unknown): ChainStep {
  if (value && typeof value === 'object' && !Array.isArray(value)) return { step, args: value as Record<string, unknown> };
  return { step, args: {}, words: value === null || value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)] };
}

/** `{ step: value }` or a bare step name: the pair, or an error saying how a step is written. */
export function stepPair(v: unknown): [string, unknown] {
  if (typeof v === 'string') return [v, null];
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1) {
    const [k] = Object.keys(v);
    return [k, (v as Record<string, unknown>)[k]];
  }
  throw new ChainError('Each step is one "name: arguments" pair');
}

/**
 * A chain from a TypeScript recipe's default export: `{ base, steps: [...] }` as in YAML (base a
 * name or `{ 'debian-12': { driver: 'qemu' } }`), or a list of `{ step, args }`.
 */
export function chainFromValue(v: unknown, find: FindStep = findStep, pass = false): ChainStep[] {
  const where = (i: number, err: unknown) => {
    if (err instanceof ChainError) return new ChainError(`${i === 0 ? 'base' : `step ${i}`}: ${err.message}`, undefined, err.field);
    return err;
  };
  if (Array.isArray(v)) {
    return v.map((s, i) => {
      try {
        if (!s || typeof s !== 'object' || typeof (s as ChainStep).step !== 'string') throw new ChainError('write { step, args }');
        if (pass && i > 0 && !find((s as ChainStep).step)) return passOn((s as ChainStep).step, (s as ChainStep).args ?? {});
        const name = (s as ChainStep).step;
        return checkStep({ step: index0(name, i), args: { ...aliasArgs(name, i), ...((s as ChainStep).args ?? {}) } }, i, find);
      } catch (err) {
        throw where(i, err);
      }
    });
  }
  if (!v || typeof v !== 'object' || !('base' in v)) throw new ChainError('A recipe exports { base, steps } (or a list of { step, args })');
  const { base, steps = [] } = v as { base: unknown; steps?: unknown };
  if (!Array.isArray(steps)) throw new ChainError('steps is a list');
  return [base, ...steps].map((s, i) => {
    try {
      return stepFromValue(...stepPair(s), i, find, pass);
    } catch (err) {
      throw where(i, err);
    }
  });
}

const index0 = (name: string, i: number) => (i === 0 ? (BASE_ALIASES[name] ?? name) : name);
