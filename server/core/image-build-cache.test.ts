import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { imageBuildCache } from './image-build-cache';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-ibc-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  delete process.env.HANGAR_TEST_IMAGE_CACHE;
  delete process.env.HANGAR_TEST_IMAGE_CACHE_FILL_ONLY;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the test image build cache', () => {
  it('is off unless HANGAR_TEST_IMAGE_CACHE is set', async () => {
    expect(await imageBuildCache({ kind: 'debian-12' })).toBeNull();
  });

  it('keeps a slow build per recipe and copies it into the next scratch dir; a quick build or another recipe is not kept', async () => {
    process.env.HANGAR_TEST_IMAGE_CACHE = path.join(tmp(), 'built');
    const a = tmp();
    fs.mkdirSync(path.join(a, 'rootfs/etc'), { recursive: true });
    fs.writeFileSync(path.join(a, 'rootfs/etc/hostname'), 'img\n');
    fs.symlinkSync('etc/hostname', path.join(a, 'rootfs/link'));
    const built = { sizeBytes: 42, boot: { append: 'x' }, facts: { kernel: 'k' } };

    const quick = (await imageBuildCache({ kind: 'busybox' }))!;
    await quick.keep(a, built, 2_000);
    expect(await quick.restore(path.join(tmp(), 'scratch'))).toBeNull();

    const cache = (await imageBuildCache({ kind: 'debian-12' }))!;
    expect(await cache.restore(path.join(tmp(), 'scratch'))).toBeNull();
    await cache.keep(a, built, 120_000);
    // Into a data dir whose images directory does not exist yet (a fresh server's first build).
    const b = path.join(tmp(), 'images', '.debian-12-job');
    expect(await (await imageBuildCache({ kind: 'debian-12' }))!.restore(b)).toEqual(built);
    expect(fs.readFileSync(path.join(b, 'rootfs/etc/hostname'), 'utf8')).toBe('img\n');
    expect(fs.readlinkSync(path.join(b, 'rootfs/link'))).toBe('etc/hostname');
    expect(await (await imageBuildCache({ kind: 'debian-13' }))!.restore(path.join(tmp(), 'scratch'))).toBeNull();
    // A server that tests the build fills the cache but never copies from it.
    process.env.HANGAR_TEST_IMAGE_CACHE_FILL_ONLY = '1';
    expect(await (await imageBuildCache({ kind: 'debian-12' }))!.restore(path.join(tmp(), 'scratch'))).toBeNull();
    delete process.env.HANGAR_TEST_IMAGE_CACHE_FILL_ONLY;
    // Nothing half-kept is left beside the entries.
    expect(fs.readdirSync(process.env.HANGAR_TEST_IMAGE_CACHE).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
