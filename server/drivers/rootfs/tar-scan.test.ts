import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarOf, type FixtureEntry } from './tar-fixture';
import { confinedPath, detectCompression, TarRefusal, TarScanner } from './tar-scan';

const scan = (entries: FixtureEntry[] | Buffer, allowSetuid = false, chunk = 7000) => {
  const bytes = Buffer.isBuffer(entries) ? entries : tarOf(entries);
  const s = new TarScanner({ allowSetuid });
  for (let i = 0; i < bytes.length; i += chunk) s.push(bytes.subarray(i, i + chunk));
  return s.end();
};
const refused = (entries: FixtureEntry[] | Buffer, allowSetuid = false) => {
  try {
    scan(entries, allowSetuid);
  } catch (err) {
    if (err instanceof TarRefusal) return err.message;
    throw err;
  }
  return null;
};

const base: FixtureEntry[] = [
  { name: './', type: '5' },
  { name: './bin/', type: '5' },
  { name: './bin/busybox', data: 'x'.repeat(5000), mode: 0o755 },
  { name: './bin/sh', type: '2', link: 'busybox' },
  { name: './etc/motd', data: 'hello\n' },
];

describe('TarScanner', () => {
  it('counts a plain root filesystem, whatever size the chunks come in', () => {
    for (const chunk of [1, 100, 512, 7000, 1 << 20]) expect(scan(base, false, chunk)).toMatchObject({ entries: 5, diskBytes: 5 * 4096 + 4096 });
  });

  it('keeps symlinks pointing anywhere (they are never followed on extraction)', () => {
    expect(scan([...base, { name: 'etc/localtime', type: '2', link: '/usr/share/zoneinfo/UTC' }]).entries).toBe(6);
  });

  it.each<[string, FixtureEntry[], RegExp]>([
    ['../x', [{ name: '../x', data: 'pwned' }], /goes up out of the image root/],
    ['a/../../x', [{ name: 'a/../../x' }], /goes up out/],
    ['an absolute name', [{ name: '/etc/passwd' }], /absolute path/],
    [
      'a file through an absolute symlink',
      [
        { name: 'evil', type: '2', link: '/etc' },
        { name: 'evil/passwd', data: 'root::0:0' },
      ],
      /through the symlink "evil"/,
    ],
    ['a file through a relative symlink', [{ name: 'up', type: '2', link: '../../..' }, { name: 'up/tmp/x' }], /through the symlink "up"/],
    [
      'a symlink replaced',
      [
        { name: 'l', type: '2', link: '/' },
        { name: 'l', type: '5' },
      ],
      /replaces a symlink/,
    ],
    ['a hard link out', [{ name: 'h', type: '1', link: '../../etc/shadow' }], /goes up out/],
    [
      'a hard link through a symlink',
      [
        { name: 'l', type: '2', link: '/etc' },
        { name: 'h', type: '1', link: 'l/shadow' },
      ],
      /through the symlink/,
    ],
    ['a block device', [{ name: 'dev/sda', type: '4', dev: [8, 0] }], /block device \(8:0\)/],
    ['a char device other than the usual', [{ name: 'dev/mem', type: '3', dev: [1, 1] }], /character device \(1:1\)/],
    ['/dev/null numbers elsewhere', [{ name: 'tmp/null', type: '3', dev: [1, 3] }], /character device/],
    ['a setuid file', [{ name: 'bin/su', mode: 0o4755, data: 'x' }], /setuid\/setgid \(mode 4755\)/],
    ['a setgid file', [{ name: 'bin/wall', mode: 0o2755, data: 'x' }], /setuid\/setgid/],
    ['a sparse file', [{ name: 'big', type: 'S' }], /GNU sparse file/],
    ['the root as a symlink', [{ name: '.', type: '2', link: '/' }], /the image root itself, and not a directory/],
  ])('refuses %s', (_what, entries, why) => {
    expect(refused([...base, ...entries])).toMatch(why);
  });

  it('lets the usual device nodes, setgid dirs and (when allowed) setuid files through', () => {
    const r = scan(
      [
        ...base,
        { name: 'dev/null', type: '3', dev: [1, 3] },
        { name: 'dev/urandom', type: '3', dev: [1, 9] },
        { name: 'var/mail', type: '5', mode: 0o2775 },
        { name: 'bin/su', mode: 0o4755, data: 'x' },
      ],
      true,
    );
    expect(r).toMatchObject({ entries: 9, setuid: 1 });
  });

  it('refuses what is not a tar archive, or not a whole one', () => {
    expect(refused(Buffer.from('hello, this is no tar archive at all'.repeat(40)))).toMatch(/^not a tar archive/);
    const whole = tarOf(base);
    expect(refused(whole.subarray(0, 2048))).toMatch(/truncated/);
    expect(refused(whole.subarray(0, whole.length - 1024))).toMatch(/truncated/);
    const flipped = Buffer.from(whole);
    flipped[512 * 2 + 10] ^= 0xff;
    expect(refused(flipped)).toMatch(/corrupt tar header after 2 entries/);
  });

  it('reads GNU long names and pax paths, and judges those', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-tarscan-'));
    try {
      const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
      fs.mkdirSync(path.join(dir, 'root', 'd'.repeat(120)), { recursive: true });
      fs.writeFileSync(path.join(dir, 'root', long), 'x');
      for (const format of ['gnu', 'pax']) {
        const bytes = execFileSync('tar', ['-C', path.join(dir, 'root'), `--format=${format}`, '-cf', '-', '.']);
        expect(scan(bytes).entries, format).toBe(3);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('confinedPath and detectCompression', () => {
  it('normalises names relative to the root', () => {
    expect(confinedPath('./etc//passwd')).toBe('etc/passwd');
    expect(confinedPath('./')).toBe('');
  });

  it('knows compressions by their magic bytes', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(tarOf(base).subarray(0, 512))).toBe('none');
    expect(detectCompression(Buffer.from('PK\x03\x04 a zip'))).toBeNull();
  });
});
