import { describe, expect, it } from 'vitest';
import { resolveInside } from './paths';

describe('resolveInside', () => {
  it('resolves inside the base', () => {
    expect(resolveInside('/data', 'machines', 'web')).toBe('/data/machines/web');
    expect(resolveInside('/data')).toBe('/data');
  });
  it.each([['..'], ['../etc/passwd'], ['machines/../../etc'], ['/etc/passwd'], ['a\0b']])('refuses %j', (p) => {
    expect(() => resolveInside('/data', p)).toThrow(RangeError);
  });
  it('is not fooled by a sibling with the same prefix', () => {
    expect(() => resolveInside('/data', '../data-evil/x')).toThrow(RangeError);
  });
});
