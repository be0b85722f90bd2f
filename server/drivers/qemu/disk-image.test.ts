import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forkSeed } from './disk-image';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-fork-seed-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("a fork's cloud-init seed", () => {
  it('is none for machines without a seed (built images, ISO installs)', async () => {
    const t = { id: 'mch_f', name: 'f', dir: tmp() };
    expect(await forkSeed({ ssh: true }, t)).toBeUndefined();
    expect(await forkSeed({ installer: true, cdrom: null }, t)).toBeUndefined();
  });

  it("from a snapshot made before the seed's inputs were kept: its source's seed copied into the fork's own dir", async () => {
    const src = tmp();
    fs.writeFileSync(path.join(src, 'seed.iso'), 'old seed');
    const t = { id: 'mch_f', name: 'f', dir: tmp() };
    const seed = await forkSeed({ ownKernel: true, seed: path.join(src, 'seed.iso') }, t);
    expect(seed).toBe(path.join(t.dir, 'seed.iso'));
    expect(fs.readFileSync(seed!, 'utf8')).toBe('old seed');
    // The source's seed gone (the source destroyed): the fork boots without one rather than pointing at it.
    fs.rmSync(path.join(src, 'seed.iso'));
    expect(await forkSeed({ ownKernel: true, seed: path.join(src, 'seed.iso') }, { ...t, dir: tmp() })).toBeUndefined();
  });
});
