import type { Store } from '../client';

const kept = new WeakMap<Store, Map<string, unknown>>();

/**
 * A query every request runs (the caller's token or session, one machine), prepared once per
 * store: building Drizzle's SQL and preparing the statement cost more than running it.
 * `make` builds it with `sql.placeholder(...)` and ends in `.prepare(name)`.
 */
export function prepared<T>(s: Store, name: string, make: () => T): T {
  let mine = kept.get(s);
  if (!mine) kept.set(s, (mine = new Map()));
  let q = mine.get(name) as T | undefined;
  if (q === undefined) mine.set(name, (q = make()));
  return q;
}
