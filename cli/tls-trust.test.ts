import { describe, expect, it } from 'vitest';
import { normalizeFingerprint } from './tls-trust';

describe('normalizeFingerprint', () => {
  it('accepts the forms people paste: colons or not, any case, a sha256: prefix', () => {
    const want = 'AB:CD:EF:01';
    expect(normalizeFingerprint('abcdef01')).toBe(want);
    expect(normalizeFingerprint('AB:cd:EF:01')).toBe(want);
    expect(normalizeFingerprint('sha256:ab cd ef 01')).toBe(want);
    expect(normalizeFingerprint('zz')).toBe('');
  });
});
