import { describe, expect, it } from 'vitest';
import { compare } from './meta';

describe('compare', () => {
  it('a layer from a tar has whole-second mtimes: within the slack a file is the same, beyond it changed', () => {
    const f = { type: 'file' as const, size: 1, mode: 0o644, uid: 0, gid: 0, mtime: 1_000_400 };
    expect(compare('/a', f, { ...f, mtime: 1_000_000 }, 500)).toBeNull();
    expect(compare('/a', f, { ...f, mtime: 1_000_000 })).toMatchObject({ change: 'changed', fields: ['mtime'] });
    expect(compare('/a', f, { ...f, mtime: 1_002_000 }, 500)).toMatchObject({ fields: ['mtime'] });
  });
});
