import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { insertImage } from '@/db/repo/images';
import { insertImageCopy, nodeImageCopies } from '@/db/repo/image-copies';
import { withTempStore } from '@/db/temp-store';
import type { Cluster } from './cluster';
import { ImageCopyService } from './image-copies';

let store: Store;
withTempStore('image-copies', (s) => (store = s));
let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-copies-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Node B's copies of images A built, 100 bytes each, `names` least recently used first; B keeps 50 bytes of copies. */
async function copiesOnB(names: string[]): Promise<ImageCopyService> {
  store.node = { id: 'nod_a', founder: true };
  for (const [i, name] of names.entries()) {
    const img = await insertImage(store, {
      id: `img_${name.padEnd(12, '0')}`,
      name,
      kind: 'busybox',
      state: 'ready',
      sizeBytes: 100,
      recipe: {},
      createdAt: 1,
      updatedAt: 1,
      path: `/a/images/${name}`,
    });
    const copy = path.join(dir, name);
    fs.mkdirSync(copy);
    await insertImageCopy(store, { imageId: img.id, nodeId: 'nod_b', path: copy, imageUpdatedAt: 1, bytes: 100, createdAt: 1, lastUsedAt: 10 + i });
  }
  store.node = { id: 'nod_b', founder: false };
  const cluster = { enabled: true, self: { id: 'nod_b', name: 'b' }, isLocal: (id: string | null) => id === 'nod_b' } as unknown as Cluster;
  return new ImageCopyService({ store, cluster, dir, tmp: () => dir, rateBytes: 1e9, budgetBytes: 50, now: () => 100 });
}
const left = async () => (await nodeImageCopies(store, 'nod_b')).map((c) => path.basename(c.path)).sort();
const quiet = { log: () => undefined };

describe('ImageCopyService.evict', () => {
  it('past the budget, removes the least recently used copies nothing here uses, files and rows', async () => {
    const copies = await copiesOnB(['one', 'two']);
    expect(await copies.evict('none', quiet)).toBe(2);
    expect(await left()).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('leaves a copy a move to this node holds until the move lets it go', async () => {
    const copies = await copiesOnB(['one', 'two']);
    const release = copies.hold('one');
    const again = copies.hold('one');
    expect(await copies.evict('none', quiet)).toBe(1);
    expect(await left()).toEqual(['one']);
    release();
    release();
    // Still held by the second move.
    expect(await copies.evict('none', quiet)).toBe(0);
    again();
    expect(await copies.evict('none', quiet)).toBe(1);
    expect(await left()).toEqual([]);
  });
});
