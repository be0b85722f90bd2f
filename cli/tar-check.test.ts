import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarChecker, UnsafeTarError } from '@/lib/tar-check';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-check-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Real GNU tar output, fed in odd-sized chunks so headers span them. */
function check(archive: Buffer, chunk = 333): TarChecker {
  const c = new TarChecker();
  for (let i = 0; i < archive.length; i += chunk) c.push(archive.subarray(i, i + chunk));
  return c;
}
const tar = (args: string[]) => execFileSync('tar', ['-c', '-C', dir, ...args], { maxBuffer: 64 * 1024 * 1024 });

describe('TarChecker', () => {
  it('passes a directory with files, a long name, a symlink and a hard link inside', () => {
    const long = 'd/' + 'x'.repeat(150) + '/' + 'y'.repeat(120);
    fs.mkdirSync(path.join(dir, long), { recursive: true });
    fs.writeFileSync(path.join(dir, long, 'f'), 'hello');
    fs.writeFileSync(path.join(dir, 'd/big'), Buffer.alloc(70_000, 7));
    fs.symlinkSync('/etc', path.join(dir, 'd/link'));
    fs.linkSync(path.join(dir, 'd/big'), path.join(dir, 'd/hard'));
    for (const format of ['gnu', 'pax', 'ustar']) {
      if (format === 'ustar') continue; // names over 255 bytes do not fit ustar
      expect(check(tar([`--format=${format}`, 'd'])).members).toBeGreaterThan(4);
    }
    expect(check(tar(['d']), 1).members).toBeGreaterThan(4);
  });

  it('refuses ../ members, absolute names and a way out through a hard link', () => {
    fs.writeFileSync(path.join(dir, 'evil'), 'x');
    const up = tar(['--transform=s,^evil,../../evil,', 'evil']);
    expect(() => check(up)).toThrow(UnsafeTarError);
    expect(() => check(up)).toThrow(/outside the destination/);
    const abs = tar(['--absolute-names', '--transform=s,^evil,/etc/evil,', 'evil']);
    expect(() => check(abs)).toThrow(/absolute/);
    fs.linkSync(path.join(dir, 'evil'), path.join(dir, 'evil2'));
    const hard = tar(['evil', 'evil2']);
    expect(check(hard).members).toBe(2);
    // The second header is the hard link (its link name at 157): pointed outside by hand (tar itself strips ../ there).
    const second = hard.indexOf(Buffer.from('evil2\0'));
    hard.write('../evil\0', second + 157, 'latin1');
    expect(() => check(hard)).toThrow(/"\.\.\/evil" would be written outside/);
  });

  it('refuses a member written through a symlink of the same archive', () => {
    fs.mkdirSync(path.join(dir, 's'));
    fs.symlinkSync('/etc', path.join(dir, 's/a'));
    fs.mkdirSync(path.join(dir, 't/a'), { recursive: true });
    fs.writeFileSync(path.join(dir, 't/a/passwd'), 'x');
    const two = Buffer.concat([tar(['-C', 's', 'a']).subarray(0, 512 * 2), tar(['-C', 't', 'a/passwd'])]);
    expect(() => check(two)).toThrow(/symbolic link "a"/);
  });

  it('refuses what is not a tar archive', () => {
    expect(() => check(Buffer.from('x'.repeat(1024)))).toThrow(/octal/);
  });
});
