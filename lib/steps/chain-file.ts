import type { Node } from 'yaml';
import type { ChainStep } from '@/lib/contracts/steps';
import { findStep } from './catalog';
import { ChainError, type FindStep } from './chain';
import { stepFromValue } from './chain-value';

/**
 * A chain file (YAML), for recipes too long for one command line:
 *
 *   base: debian-12            # or { debian-12: { driver: qemu } }
 *   steps:
 *     - apt: [nginx, curl]     # a list: the step's command-line words
 *     - file: { path: /etc/motd, content: hello }   # a map: its arguments
 *     - service: nginx         # a scalar: one word
 *     - exec: [nginx, -v]
 *
 * Errors say the line and column: YAML syntax, an unknown step, a wrong argument. `pass`: steps
 * this side does not know go on unchecked (the server may have them as user steps).
 */
export async function parseChainFile(text: string, find: FindStep = findStep, pass = false): Promise<ChainStep[]> {
  // Loaded when a chain file is read, not with every CLI command.
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = await import('yaml');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length) throw new ChainError(`YAML: ${doc.errors[0].message.split('\n')[0]}`, at(doc.errors[0].pos[0]));
  const root = doc.contents;
  if (!isMap(root)) throw new ChainError('A chain file is a map with base and steps', at(root?.range?.[0]));
  const base = root.get('base', true) as Node | undefined;
  const steps = root.get('steps', true) as Node | undefined;
  if (!base) throw new ChainError('No base: write base: busybox or base: debian-12', at(root.range?.[0]));
  if (steps !== undefined && !isSeq(steps)) throw new ChainError('steps is a list', at(steps.range?.[0]));

  const one = (node: Node, index: number): ChainStep => {
    let name: string;
    let value: unknown;
    if (isScalar(node)) {
      name = String(node.value);
      value = null;
    } else if (isMap(node) && node.items.length === 1) {
      name = String((node.items[0].key as { value?: unknown })?.value ?? '');
      value = (node.items[0].value as Node | null)?.toJSON?.() ?? null;
    } else {
      throw new ChainError('Each step is one "name: arguments" pair', at(node.range?.[0]));
    }
    try {
      return stepFromValue(name, value, index, find, pass);
    } catch (err) {
      if (err instanceof ChainError && !err.at) throw new ChainError(err.message, at(node.range?.[0]), err.field);
      throw err;
    }
  };
  return [one(base, 0), ...(steps && isSeq(steps) ? steps.items.map((n, i) => one(n as Node, i + 1)) : [])];
}
