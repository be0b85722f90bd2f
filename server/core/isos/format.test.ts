import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isoFormat } from './format';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iso-format-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file with these descriptor identifiers at sectors 16, 17, ... */
function image(ids: string[]): string {
  const buf = Buffer.alloc(2048 * (16 + ids.length + 1));
  ids.forEach((id, i) => buf.write(`\x01${id}\x01`, 2048 * (16 + i), 'latin1'));
  const file = path.join(dir, `${ids.join('-') || 'none'}.img`);
  fs.writeFileSync(file, buf);
  return file;
}

describe('isoFormat', () => {
  it('knows ISO 9660 by CD001 at byte 32769', () => {
    const f = image(['CD001', 'CD001']);
    expect(fs.readFileSync(f).toString('latin1', 32769, 32774)).toBe('CD001');
    expect(isoFormat(f)).toBe('iso9660');
  });
  it('knows UDF by BEA01 followed by NSR02 or NSR03', () => {
    expect(isoFormat(image(['BEA01', 'NSR02', 'TEA01']))).toBe('udf');
    expect(isoFormat(image(['BEA01', 'NSR03', 'TEA01']))).toBe('udf');
  });
  it('refuses anything else: no descriptors, BEA01 alone, a short file, CD001 in the wrong place', () => {
    expect(isoFormat(image([]))).toBeNull();
    expect(isoFormat(image(['BEA01', 'TEA01']))).toBeNull();
    const short = path.join(dir, 'short');
    fs.writeFileSync(short, 'CD001');
    expect(isoFormat(short)).toBeNull();
    const off = path.join(dir, 'off');
    const b = Buffer.alloc(40000);
    b.write('CD001', 32768, 'latin1');
    fs.writeFileSync(off, b);
    expect(isoFormat(off)).toBeNull();
  });
});
