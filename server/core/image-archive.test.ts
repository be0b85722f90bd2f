import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '@/server/drivers/exec';
import { packImage, unpackImage } from './image-archive';

let dir = '';
let img = '';
const build = { name: 'bb', updatedAt: 7 };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-imgarc-'));
  img = path.join(dir, 'image');
  fs.mkdirSync(path.join(img, 'rootfs', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(img, 'kernel'), 'kernel bytes');
  fs.writeFileSync(path.join(img, 'boot.json'), '{"append":""}');
  fs.writeFileSync(path.join(img, 'rootfs', 'bin', 'tool'), 'tool', { mode: 0o755 });
  fs.symlinkSync('tool', path.join(img, 'rootfs', 'bin', 'alias'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const pack = async () => {
  const out = path.join(dir, 'out.tar');
  await packImage(build, img, path.join(dir, 'work'), out);
  return out;
};

describe('image archives (copies between nodes)', () => {
  it('round trip: files, the root filesystem tree with its links and modes, nothing else', async () => {
    const out = await pack();
    expect(fs.existsSync(path.join(dir, 'work'))).toBe(false);
    const dest = path.join(dir, 'copy');
    const bytes = await unpackImage(out, path.join(dir, 'u'), dest, build);
    expect(bytes).toBeGreaterThan(0);
    expect(fs.readdirSync(dest).sort()).toEqual(['boot.json', 'kernel', 'rootfs']);
    expect(fs.readFileSync(path.join(dest, 'kernel'), 'utf8')).toBe('kernel bytes');
    expect(fs.readlinkSync(path.join(dest, 'rootfs', 'bin', 'alias'))).toBe('tool');
    expect(fs.statSync(path.join(dest, 'rootfs', 'bin', 'tool')).mode & 0o777).toBe(0o755);
  });

  it('refuses another build, a damaged member and a cut archive, and makes no dest', async () => {
    const out = await pack();
    const dest = path.join(dir, 'copy');
    await expect(unpackImage(out, path.join(dir, 'u1'), dest, { ...build, updatedAt: 8 })).rejects.toThrow(/another build/);
    // A member changed after packing: its checksum no longer matches (same size).
    const x = path.join(dir, 'x');
    fs.mkdirSync(x);
    await run(['tar', '-C', x, '-xf', out]);
    fs.writeFileSync(path.join(x, 'kernel'), 'kernel BYTES');
    const bad = path.join(dir, 'bad.tar');
    await run(['tar', '-C', x, '-cf', bad, '.']);
    await expect(unpackImage(bad, path.join(dir, 'u2'), dest, build)).rejects.toThrow(/kernel: checksum mismatch/);
    const cut = path.join(dir, 'cut.tar');
    fs.writeFileSync(cut, fs.readFileSync(out).subarray(0, 1024));
    await expect(unpackImage(cut, path.join(dir, 'u3'), dest, build)).rejects.toThrow(/not a whole image archive/);
    expect(fs.existsSync(dest)).toBe(false);
  });
});
