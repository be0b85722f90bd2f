import { createHash } from 'node:crypto';
import type { ChainStep } from '@/lib/contracts/steps';

/** Canonical JSON: keys sorted at every level, so equal arguments hash equally. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** hash(parent key, step name, step version, canonical args); the base's parent is the image build it starts from. */
export function stepKey(parent: string, step: ChainStep, version: string): string {
  return createHash('sha256')
    .update(`${parent}\0${step.step}\0${version}\0${canonical(step.args)}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Arguments as the tree keeps them: long values (a file's content, a packed directory) stand as
 * their digest and length, so listing the tree does not carry megabytes; the key has them whole.
 */
export function storedArgs(v: unknown): unknown {
  if (typeof v === 'string' && v.length > 4096) return `sha256:${createHash('sha256').update(v).digest('hex').slice(0, 16)} (${v.length} chars)`;
  if (Array.isArray(v)) return v.map(storedArgs);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, storedArgs(x)]));
  return v;
}
