import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../exec';
import { writeCpio } from './cpio';

describe('writeCpio', () => {
  it('writes an archive that cpio itself lists and extracts', async () => {
    const buf = writeCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/hi', target: 'hello' },
      { kind: 'file', path: 'odd-size', data: Buffer.from('abc') },
    ]);
    expect(buf.length % 4).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpio-'));
    try {
      const r = await run(['cpio', '-idm', '--quiet', '--no-absolute-filenames'], { input: buf, cwd: dir });
      expect(r.stderr).toBe(''); // cpio(1) comes with ./hangar test
      expect(r.code).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'bin/hello'), 'utf8')).toContain('echo hi');
      expect(fs.statSync(path.join(dir, 'bin/hello')).mode & 0o777).toBe(0o755);
      expect(fs.readlinkSync(path.join(dir, 'bin/hi'))).toBe('hello');
      expect(fs.readFileSync(path.join(dir, 'odd-size'), 'utf8')).toBe('abc');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends with the trailer and refuses paths that climb out', () => {
    expect(writeCpio([]).toString('latin1')).toContain('TRAILER!!!');
    expect(() => writeCpio([{ kind: 'file', path: '../etc/passwd', data: Buffer.alloc(0) }])).toThrow(RangeError);
  });
});
