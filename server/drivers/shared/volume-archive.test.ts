import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../exec';
import { volumeArchiver } from './volume-archive';

let tmp: string;
const record = { volumes: [{ name: 'data', guestPath: '/srv/data', attached: true }] };
const tar = async (...args: string[]) => expect((await run(['tar', ...args], { timeoutMs: 30_000 })).code).toBe(0);

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-volarch-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('volume archive members', () => {
  it('names members by volume and refuses other names', () => {
    expect(volumeArchiver.nameOf('volume-data.tar')).toBe('data');
    for (const bad of ['volume-../x.tar', 'volume-.tar', 'rootfs.tar', 'volume-Data.tar']) expect(volumeArchiver.nameOf(bad)).toBeNull();
  });

  it('packs a volume with the same bytes each time and unpacks it into the snapshot copy', async () => {
    const dir = path.join(tmp, 'snap', 'volumes', 'data');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'f'), 'contents\n');
    fs.symlinkSync('/etc', path.join(dir, 'abs'));
    expect(volumeArchiver.of(path.join(tmp, 'snap'), record)).toEqual([{ member: 'volume-data.tar', dir }]);
    const work = path.join(tmp, 'work');
    fs.mkdirSync(work);
    await volumeArchiver.pack(dir, path.join(work, 'volume-data.tar'));
    await volumeArchiver.pack(dir, path.join(tmp, 'again.tar'));
    expect(fs.readFileSync(path.join(tmp, 'again.tar')).equals(fs.readFileSync(path.join(work, 'volume-data.tar')))).toBe(true);
    expect(await volumeArchiver.unpack(work, record)).toEqual(['data']);
    expect(fs.readFileSync(path.join(work, 'volumes', 'data', 'sub', 'f'), 'utf8')).toBe('contents\n');
    expect(fs.readlinkSync(path.join(work, 'volumes', 'data', 'abs'))).toBe('/etc');
    expect(fs.existsSync(path.join(work, 'volume-data.tar'))).toBe(false);
  });

  it('refuses a volume the record does not name', async () => {
    const work = path.join(tmp, 'work');
    fs.mkdirSync(work);
    fs.mkdirSync(path.join(tmp, 'empty'));
    await volumeArchiver.pack(path.join(tmp, 'empty'), path.join(work, 'volume-other.tar'));
    await expect(volumeArchiver.unpack(work, record)).rejects.toThrow(/names no volume "other"/);
  });

  it('keeps a tar that writes through its own `../` or absolute symlinks inside the volume', async () => {
    const outside = path.join(tmp, 'outside');
    const links = path.join(tmp, 'links');
    const files = path.join(tmp, 'files');
    for (const d of [outside, links, path.join(files, 'abs'), path.join(files, 'rel')]) fs.mkdirSync(d, { recursive: true });
    fs.symlinkSync(outside, path.join(links, 'abs'));
    fs.symlinkSync('../../../outside', path.join(links, 'rel'));
    fs.writeFileSync(path.join(files, 'abs', 'x'), 'escaped\n');
    fs.writeFileSync(path.join(files, 'rel', 'y'), 'escaped\n');
    const work = path.join(tmp, 'work');
    fs.mkdirSync(work);
    const member = path.join(work, 'volume-data.tar');
    await tar('-C', links, '-cf', member, 'abs', 'rel');
    await tar('-C', files, '-rf', member, 'abs/x', 'rel/y');
    await expect(volumeArchiver.unpack(work, record)).rejects.toThrow(/unpacking volume-data\.tar failed/);
    expect(fs.readdirSync(outside)).toEqual([]);

    // Names outside the root are refused before anything is unpacked.
    fs.rmSync(member);
    await tar('-C', files, '-P', '-cf', member, '--transform=s,^,../,', 'abs/x');
    await expect(volumeArchiver.unpack(work, record)).rejects.toThrow(/outside its root/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
