import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backingChain, backingFile } from './qcow2';

/** A minimal qcow2 header naming `backing` (the fields backingFile reads). */
function qcow2(file: string, backing: string | null) {
  const head = Buffer.alloc(512);
  head.writeUInt32BE(0x514649fb, 0);
  head.writeUInt32BE(3, 4);
  if (backing) {
    head.writeBigUInt64BE(200n, 8);
    head.writeUInt32BE(Buffer.byteLength(backing), 16);
    head.write(backing, 200);
  }
  fs.writeFileSync(file, head);
}

describe('qcow2 backing chains', () => {
  it('follows absolute and relative backing names and stops at the base, a loop or a missing file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qcow2-'));
    const [base, mid, top] = ['base.qcow2', 'mid.qcow2', 'top.qcow2'].map((n) => path.join(dir, n));
    qcow2(base, null);
    qcow2(mid, base);
    qcow2(top, 'mid.qcow2');
    expect(backingFile(top)).toBe(mid);
    expect(backingFile(base)).toBeNull();
    expect(backingChain(top)).toEqual([top, mid, base]);
    qcow2(base, top);
    expect(backingChain(top)).toEqual([top, mid, base]);
    qcow2(mid, path.join(dir, 'gone.qcow2'));
    expect(backingChain(top)).toEqual([top, mid]);
    fs.writeFileSync(base, 'not qcow2 at all');
    expect(backingFile(base)).toBeNull();
  });
});
