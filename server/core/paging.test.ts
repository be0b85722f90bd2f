import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageFromRows, pageOf, parseNumberKey, parseTimeIdKey, timeIdKey } from './paging';

const items = ['d', 'a', 'c', 'b', 'e'].map((name) => ({ name }));
const byName = (x: { name: string }) => x.name;

describe('paging', () => {
  it('walks a list in pages by key, in order, and ends with next: null', () => {
    const p1 = pageOf(items, { limit: 2, after: undefined }, byName);
    expect(p1.items.map(byName)).toEqual(['a', 'b']);
    const p2 = pageOf(items, { limit: 2, after: decodeCursor(p1.next!) }, byName);
    expect(p2.items.map(byName)).toEqual(['c', 'd']);
    const p3 = pageOf(items, { limit: 2, after: decodeCursor(p2.next!) }, byName);
    expect(p3).toEqual({ items: [{ name: 'e' }], next: null });
    expect(pageOf(items, { limit: undefined, after: undefined }, byName).next).toBeNull();
  });

  it('keeps its place when the item a cursor names is gone, and pages backwards lists too', () => {
    const without = items.filter((x) => x.name !== 'b');
    expect(pageOf(without, { limit: 2, after: 'b' }, byName).items.map(byName)).toEqual(['c', 'd']);
    expect(pageOf(items, { limit: 2, after: 'c' }, byName, true).items.map(byName)).toEqual(['b', 'a']);
  });

  it('refuses a cursor it did not make', () => {
    expect(() => decodeCursor('not base64url!')).toThrow(/Invalid cursor/);
    expect(() => decodeCursor('')).toThrow(/Invalid cursor/);
    expect(decodeCursor(encodeCursor('load-7'))).toBe('load-7');
    expect(() => parseTimeIdKey('12:x y')).toThrow(/Invalid cursor/);
    expect(() => parseNumberKey('-1')).toThrow(/Invalid cursor/);
  });

  it('orders time:id keys as numbers, and tells from limit + 1 rows whether there is more', () => {
    expect(timeIdKey(9, 'a') < timeIdKey(10, 'a')).toBe(true);
    expect(parseTimeIdKey(timeIdKey(1234, 'job_abc'))).toEqual({ n: 1234, id: 'job_abc' });
    const rows = [1, 2, 3].map((n) => ({ n }));
    expect(pageFromRows(rows, 2, (r) => String(r.n))).toEqual({ items: [{ n: 1 }, { n: 2 }], next: encodeCursor('2') });
    expect(pageFromRows(rows, 3, (r) => String(r.n)).next).toBeNull();
  });
});
