import { describe, expect, it } from 'vitest';
import { mappedRole } from './sso';

describe('mappedRole', () => {
  const p = { roleMap: { admins: 'admin', ops: 'operator', staff: 'member' } as const };
  it('the strongest role any value maps to; none: null', () => {
    expect(mappedRole(p, ['staff', 'admins', 'ops'])).toBe('admin');
    expect(mappedRole(p, 'ops')).toBe('operator');
    expect(mappedRole(p, ['staff'])).toBe('member');
    expect(mappedRole(p, ['others'])).toBeNull();
    expect(mappedRole(p, undefined)).toBeNull();
    expect(mappedRole(p, [])).toBeNull();
  });
});
