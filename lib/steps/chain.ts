import type { ChainStep } from '@/lib/contracts/steps';
import { BASE_ALIAS_ARGS, BASE_ALIASES, findStep, type StepSpec } from './catalog';

/** Looks a step up by name: the built-in catalog, or the server's (built-ins plus user steps). */
export type FindStep = (name: string) => StepSpec | undefined;

export class ChainError extends Error {
  constructor(
    message: string,
    /** Where, for a chain given as text: 1-based line and column. */
    readonly at?: { line: number; column: number },
    /** The step argument at fault, zod style (`packages.0`). */
    readonly field?: string,
  ) {
    super(at ? `${message} (line ${at.line}, column ${at.column})` : message);
  }
}

/** Shell-like words of a chain written as text: quotes ('...' and "..."), backslash escapes, newlines as spaces. */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  let quote: { ch: string; line: number; column: number } | null = null;
  let line = 1;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    column++;
    if (quote) {
      if (ch === quote.ch) quote = null;
      else if (ch === '\\' && quote.ch === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = { ch, line, column };
      cur ??= '';
    } else if (ch === '\\' && i + 1 < text.length) {
      cur = (cur ?? '') + text[++i];
    } else if (/\s/.test(ch)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else {
      cur = (cur ?? '') + ch;
    }
    if (ch === '\n') {
      line++;
      column = 0;
    }
  }
  if (quote) throw new ChainError(`Unterminated ${quote.ch === '"' ? 'double' : 'single'} quote`, { line: quote.line, column: quote.column });
  if (cur !== null) words.push(cur);
  return words;
}

/**
 * A chain from words (`debian-12 + apt nginx + exec -- nginx -v`): the base, then steps split
 * at `+`, each step's words turned into arguments and checked against its schema (defaults
 * filled in, so equal chains have equal arguments and hit the same cache entries).
 */
export function parseChain(words: string[], find: FindStep = findStep): ChainStep[] {
  return splitChain(words).map((st, i) => checkStep({ step: st.step, args: wordsToArgs(st.step, st.words!, find) }, i, find));
}

/** A chain's words split at `+` into steps with their words (the base's alias resolved), not yet checked. */
export function splitChain(words: string[]): (ChainStep & { words: string[] })[] {
  const segments: string[][] = [[]];
  for (const w of words) {
    if (w === '+') segments.push([]);
    else segments[segments.length - 1].push(w);
  }
  if (segments.some((s) => s.length === 0)) throw new ChainError('Empty step: write BASE + STEP ARGS + STEP ARGS...');
  const [baseWords, ...rest] = segments;
  // An OCI image from a registry: the ref is the base step's first argument.
  if (baseWords[0].startsWith('docker://')) baseWords.unshift('os.oci');
  const base = BASE_ALIASES[baseWords[0]];
  if (!base) throw new ChainError(`Unknown base "${baseWords[0]}": a chain starts with busybox, debian-12, debian-13 or docker://HOST/NAME:TAG.`);
  // A base name's own arguments as words before the chain's (`debian-13` is `os.debian --image debian-13`).
  const preset = Object.entries(BASE_ALIAS_ARGS[baseWords[0]] ?? {}).flatMap(([k, v]) => [`--${k}`, v]);
  return [[base, ...preset, ...baseWords.slice(1)], ...rest].map(([step, ...w]) => ({ step, args: {}, words: w }));
}

/**
 * Steps alone, split at `+`, for an existing machine (`hangar build --on NAME apt nginx + exec -- nginx -v`): no base, not yet checked
 * (check each as a step after a base: index 1 on).
 */
export function splitSteps(words: string[]): (ChainStep & { words: string[] })[] {
  const segments: string[][] = [[]];
  for (const w of words) {
    if (w === '+') segments.push([]);
    else segments[segments.length - 1].push(w);
  }
  if (segments.some((s) => s.length === 0)) throw new ChainError('Empty step: write STEP ARGS + STEP ARGS...');
  return segments.map(([step, ...w]) => ({ step, args: {}, words: w }));
}

/** Steps alone (see splitSteps), each checked against its schema as a step after a base. */
export function parseSteps(words: string[], find: FindStep = findStep): ChainStep[] {
  return splitSteps(words).map((st, i) => checkStep({ step: st.step, args: wordsToArgs(st.step, st.words, find) }, i + 1, find));
}

/** A step's command-line words as its arguments (its own fromWords), before the schema check. */
export function wordsToArgs(name: string, words: string[], find: FindStep): Record<string, unknown> {
  const s = find(name);
  if (!s) throw new ChainError(`Unknown step "${name}".`);
  return s.fromWords(words) as Record<string, unknown>;
}

/** The base first and only first. */
export function checkPlace(step: string, base: boolean, index: number): void {
  if (index === 0 && !base) throw new ChainError(`A chain starts with a base (os.busybox, os.debian, os.oci), not "${step}".`);
  if (index > 0 && base) throw new ChainError(`"${step}" is a base: it can only start a chain.`);
}

/** A step's arguments refused by its schema: the first issue, with the field it names. */
export function argsError(step: string, usage: string, issue: { path: readonly PropertyKey[]; message: string }): ChainError {
  const field = issue.path.map(String).join('.') || '(arguments)';
  return new ChainError(`${step}: ${field}: ${issue.message} (usage: ${usage})`, undefined, field);
}

/** A step checked against the catalog: the base only first, known names, arguments by schema. */
export function checkStep(st: ChainStep, index: number, find: FindStep = findStep): ChainStep {
  const s = find(st.step);
  if (!s) throw new ChainError(`Unknown step "${st.step}".`);
  checkPlace(st.step, !!s.base, index);
  const r = s.schema.safeParse(st.args);
  if (!r.success) throw argsError(st.step, s.usage, r.error.issues[0]);
  return { step: st.step, args: r.data as Record<string, unknown> };
}
