import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAptSources } from './apt-sources';
import { DEBIAN_RELEASES, debianMirror, debianRecipeFor, debianRecipeFacts, debootstrapArgv, suiteCacheDir } from './debian';

const bookworm = parseAptSources([
  {
    name: 'debian.sources',
    text: [
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main',
      'Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security',
    ].join('\n\n'),
  },
]);

afterEach(() => vi.unstubAllEnvs());

describe('Debian releases', () => {
  it('builds debian-12 from bookworm and debian-13 from trixie, with the same package set', () => {
    expect(DEBIAN_RELEASES.map((r) => [r.kind, r.suite])).toEqual([
      ['debian-12', 'bookworm'],
      ['debian-13', 'trixie'],
    ]);
    const trixie = debianRecipeFor({ kind: 'debian-13', suite: 'trixie' });
    expect(trixie.kind).toBe('debian-13');
    expect(trixie.recipe).toEqual(debianRecipeFacts({ kind: 'debian-13', suite: 'trixie' }));
    expect(trixie.recipe).toMatchObject({ suite: 'trixie', tool: 'debootstrap --variant=minbase' });
  });

  it('passes the release to debootstrap as its suite, with the mirror and the package cache', () => {
    expect(debootstrapArgv('trixie', '/scratch/rootfs', 'http://mirror.example/debian', '/cache/debootstrap')).toEqual([
      'debootstrap',
      '--variant=minbase',
      '--include=systemd,systemd-sysv,udev,dbus,openssh-server,iproute2,linux-image-amd64,e2fsprogs,kmod',
      '--cache-dir=/cache/debootstrap',
      'trixie',
      '/scratch/rootfs',
      'http://mirror.example/debian',
    ]);
  });

  it('takes the mirror from the setting, the environment, the suite in the apt sources, or another release there', () => {
    vi.stubEnv('HANGAR_DEBIAN_MIRROR', '');
    expect(debianMirror('http://set.example/debian', 'trixie', () => bookworm)).toBe('http://set.example/debian');
    expect(debianMirror('', 'bookworm', () => bookworm)).toBe('http://mirror.example/debian');
    // The host lists bookworm only: the same archive serves trixie (never the -security one).
    expect(debianMirror('', 'trixie', () => bookworm)).toBe('http://mirror.example/debian');
    expect(() => debianMirror('', 'trixie', () => [])).toThrow(/No Debian mirror/);
    vi.stubEnv('HANGAR_DEBIAN_MIRROR', 'http://env.example/debian');
    expect(debianMirror('', 'trixie', () => [])).toBe('http://env.example/debian');
  });

  it('keeps the .debs of each suite in a dir of its own (two builds at once never write one file), started from the ones kept before', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-deb-cache-'));
    const top = path.join(cache, 'debootstrap');
    fs.mkdirSync(top);
    fs.writeFileSync(path.join(top, 'hello_2.10-3_amd64.deb'), 'old');
    fs.writeFileSync(path.join(top, 'notes.txt'), 'x');
    const [bookworm, trixie] = await Promise.all([suiteCacheDir(cache, 'bookworm'), suiteCacheDir(cache, 'trixie')]);
    expect([bookworm, trixie]).toEqual([path.join(top, 'bookworm'), path.join(top, 'trixie')]);
    for (const d of [bookworm, trixie]) {
      expect(fs.readdirSync(d)).toEqual(['hello_2.10-3_amd64.deb']);
      // Links, not copies: no space taken twice.
      expect(fs.statSync(path.join(d, 'hello_2.10-3_amd64.deb')).ino).toBe(fs.statSync(path.join(top, 'hello_2.10-3_amd64.deb')).ino);
    }
    // Made once: what a build added stays, nothing is linked again.
    fs.writeFileSync(path.join(trixie, 'hello_2.10-5_amd64.deb'), 'new');
    fs.rmSync(path.join(trixie, 'hello_2.10-3_amd64.deb'));
    expect(await suiteCacheDir(cache, 'trixie')).toBe(trixie);
    expect(fs.readdirSync(trixie)).toEqual(['hello_2.10-5_amd64.deb']);
    expect(fs.readdirSync(top).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // A cache with nothing in it yet.
    expect(fs.readdirSync(await suiteCacheDir(path.join(cache, 'fresh'), 'trixie'))).toEqual([]);
    fs.rmSync(cache, { recursive: true, force: true });
  });
});
