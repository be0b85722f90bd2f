import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ociPaths } from '@/server/drivers/oci/store';
import { checkSpace, RESERVE } from './oci-space';

const GiB = 2 ** 30;
const ref = { registry: 'r.example', repository: 'x', tag: '1', digest: null, full: 'r.example/x:1' };
const img = (sizes: [string, number][]) => ({
  digest: 'sha256:m',
  indexDigest: null,
  config: {},
  configDigest: 'sha256:c',
  layers: sizes.map(([digest, size]) => ({ digest, size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })),
});

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function store(stored: string[]) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-space-'));
  const p = ociPaths(dir);
  fs.mkdirSync(path.join(p.storage, 'overlay-layers'), { recursive: true });
  const layers = stored.map((d, i) => ({ id: `l${i}`, 'compressed-diff-digest': d, 'diff-size': 10 }));
  fs.writeFileSync(path.join(p.storage, 'overlay-layers', 'layers.json'), JSON.stringify(layers));
  return p;
}

describe('checkSpace', () => {
  it('counts only the layers the store lacks, each blob once', () => {
    const p = store(['sha256:big']);
    // 10 GiB stored already, 1 GiB missing (named twice): fits in 2 GiB free.
    expect(() =>
      checkSpace(
        p,
        ref,
        img([
          ['sha256:big', 10 * GiB],
          ['sha256:new', GiB],
          ['sha256:new', GiB],
        ]),
        0,
        2 * GiB,
      ),
    ).not.toThrow();
    expect(() => checkSpace(p, ref, img([['sha256:new', 2 * GiB]]), 0, 2 * GiB)).toThrow(
      /declares 2\.0 GiB of layers not stored yet \(1 of 1.*2\.0 GiB free \(512 MiB kept in reserve\)/,
    );
  });

  it('refuses past the configured cap whatever the free space, and names the sizes', () => {
    const p = store([]);
    const ten = img([['sha256:a', 10 * 10 ** 9]]);
    expect(() => checkSpace(p, ref, ten, 8192, 100 * GiB)).toThrow(
      'r.example/x:1 declares 9.3 GiB of layers not stored yet (1 of 1, the largest 9.3 GiB); a pull may add at most 8.0 GiB',
    );
    expect(() => checkSpace(p, ref, ten, 0, 100 * GiB)).not.toThrow();
    expect(() => checkSpace(p, ref, ten, 0, 10 * 10 ** 9 + RESERVE - 1)).toThrow(/the data dir has/);
  });
});
