import { describe, expect, it } from 'vitest';
import { layersFromGraph } from './diff-source';

describe('podman diff source', () => {
  it("reads overlay storage's LowerDir (top first) and UpperDir as layers bottom first", () => {
    expect(layersFromGraph({ LowerDir: '/s/l2/diff:/s/l1/diff', UpperDir: '/s/u/diff' }, 'x')).toEqual({
      kind: 'layers',
      layers: ['/s/l1/diff', '/s/l2/diff', '/s/u/diff'],
      mtimeSlackMs: 1000,
    });
    expect(layersFromGraph({ UpperDir: '/s/only/diff' }, 'x')).toMatchObject({ layers: ['/s/only/diff'] });
    expect(() => layersFromGraph({}, 'image y')).toThrow(/image y is not on podman's overlay storage/);
  });
});
