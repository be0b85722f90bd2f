import { describe, expect, it } from 'vitest';
import { attachRequestSchema } from './console';
import { isValidId, isValidName } from './common';
import { demoJobBodySchema } from './jobs';
import { settingsPatchSchema } from './settings';
import { labelSchema } from './snapshots';
import { hasRole, minRole } from '../roles';
import { safeNext } from '../safe-next';

describe('names and ids', () => {
  it.each(['web', 'a', 'db-1', 'x'.repeat(63)])('accepts %s', (n) => expect(isValidName(n)).toBe(true));
  it.each(['', '-a', 'a-', 'A', 'a_b', 'a.b', '../etc', 'a b', 'x'.repeat(64), 'a;rm', 'é'])('refuses %j', (n) => expect(isValidName(n)).toBe(false));
  it('ids carry a prefix and enough randomness', () => {
    expect(isValidId('job_abcdefghij0123456789')).toBe(true);
    expect(isValidId('job_short')).toBe(false);
    expect(isValidId('../../etc/passwd')).toBe(false);
  });
});

describe('snapshot labels', () => {
  // A snapshot is named by its id first: a label shaped like one would name another snapshot, or none.
  it.each(['snp_abcdefghij0123456789', ' snp_abcdefghij0123456789 '])('refuses the id shape %j', (l) => expect(labelSchema.safeParse(l).success).toBe(false));
  it.each(['pre_deployment', 'old_production', 'before upgrade / v2', 'snp_', 'snp_short', 'mch_abcdefghij0123456789'])('accepts %j', (l) =>
    expect(labelSchema.safeParse(l).success).toBe(true),
  );
});

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('operator', 'operator')).toBe(true);
    expect(hasRole('viewer', 'operator')).toBe(false);
    expect(minRole('admin', 'viewer')).toBe('viewer');
  });
});

describe('contracts', () => {
  it('fills defaults and bounds numbers', () => {
    expect(demoJobBodySchema.parse({})).toEqual({ seconds: 5, steps: 10, fail: false, children: 0 });
    expect(demoJobBodySchema.safeParse({ children: 6 }).success).toBe(false);
    expect(demoJobBodySchema.safeParse({ seconds: 1e9 }).success).toBe(false);
    expect(demoJobBodySchema.safeParse({ seconds: '1' }).success).toBe(false);
  });
  it('console attach requests are strict about ids and sizes', () => {
    const ok = attachRequestSchema.parse({ sessionId: 'abcdefgh', target: { kind: 'host-shell' } });
    expect(ok).toMatchObject({ mode: 'interactive', cols: 80, rows: 24 });
    expect(attachRequestSchema.safeParse({ sessionId: 'short', target: { kind: 'host-shell' } }).success).toBe(false);
    expect(attachRequestSchema.safeParse({ sessionId: 'abcdefgh', target: { kind: 'nope' } }).success).toBe(false);
    expect(attachRequestSchema.safeParse({ sessionId: 'abcdefgh', target: { kind: 'host-shell' }, cols: 100000 }).success).toBe(false);
  });
  it('settings patches are partial but typed', () => {
    expect(settingsPatchSchema.parse({})).toEqual({});
    expect(settingsPatchSchema.safeParse({ consoleHostShell: 'yes' }).success).toBe(false);
  });
});

describe('safeNext', () => {
  it.each([
    ['/jobs', '/jobs'],
    ['/machines/web?tab=console', '/machines/web?tab=console'],
    ['https://evil.example/', '/'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    [null, '/'],
  ])('%s -> %s', (input, out) => expect(safeNext(input)).toBe(out));
});
