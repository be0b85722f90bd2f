import { BadRequestError } from './errors';

/**
 * Paging of lists: a page is `limit` items after the item a cursor names. A cursor is opaque to
 * callers (base64url of a resource's sort key); keys rather than offsets, so a page does not
 * shift when items come and go before it.
 */
export interface PageRequest {
  /** At most this many items; undefined: every item after the cursor. */
  limit: number | undefined;
  /** The sort key of the last item of the previous page (decoded from the cursor). */
  after: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page; null on the last page. */
  next: string | null;
}

export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

/** The key a cursor carries; a 400 for anything this server did not make. */
export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || encodeCursor(key) !== cursor) throw new BadRequestError('Invalid cursor: pass the `next` of the previous page as it came.');
  return key;
}

/** Zero-padded, so numbers (timestamps, sequence numbers) in keys compare as strings do. */
export const padKey = (n: number): string => String(Math.max(0, Math.trunc(n))).padStart(16, '0');

/**
 * One page of a list held in memory. `key` must be unique per item; the list is ordered by it
 * (ascending, or descending with `desc`), so a cursor stays valid when its own item is gone.
 */
export function pageOf<T>(all: readonly T[], req: PageRequest, key: (item: T) => string, desc = false): Page<T> {
  const keyed = all.map((item) => ({ item, k: key(item) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) * (desc ? -1 : 1));
  const after = req.after;
  const start = after === undefined ? 0 : firstAfter(keyed, after, desc);
  const end = req.limit === undefined ? keyed.length : Math.min(keyed.length, start + req.limit);
  const items = keyed.slice(start, end);
  return { items: items.map((x) => x.item), next: end < keyed.length && items.length > 0 ? encodeCursor(items[items.length - 1].k) : null };
}

/** Index of the first item past `after` in a list sorted by key (binary search). */
export function firstAfter(sorted: readonly { k: string }[], after: string, desc = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const past = desc ? sorted[mid].k < after : sorted[mid].k > after;
    if (past) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A page read from the database with limit + 1 rows: the extra row only says there is more. */
export function pageFromRows<T>(rows: T[], limit: number, key: (item: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit && items.length > 0 ? encodeCursor(key(items[items.length - 1])) : null };
}

/** A `time:id` key (padKey of a number, then an id), as the database lists sorted by time and id page on. */
export const timeIdKey = (n: number, id: string): string => `${padKey(n)}:${id}`;

export function parseTimeIdKey(key: string): { n: number; id: string } {
  const m = /^(\d{1,16}):([A-Za-z0-9_]{1,64})$/.exec(key);
  if (!m) throw new BadRequestError('Invalid cursor: pass the `next` of the previous page as it came.');
  return { n: Number(m[1]), id: m[2] };
}

/** A plain number key (a sequence number). */
export function parseNumberKey(key: string): number {
  if (!/^\d{1,15}$/.test(key)) throw new BadRequestError('Invalid cursor: pass the `next` of the previous page as it came.');
  return Number(key);
}
