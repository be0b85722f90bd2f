import { describe, expect, it } from 'vitest';
import { bootSector } from './host';

describe('boot sector probe image', () => {
  it('is one bootable 512-byte sector that prints the marker', () => {
    const img = bootSector();
    expect(img.length).toBe(512);
    expect(img[510]).toBe(0x55);
    expect(img[511]).toBe(0xaa);
    // mov si, imm16 points at the message, loaded at 0x7c00.
    const si = img.readUInt16LE(10);
    expect(img.subarray(si - 0x7c00, si - 0x7c00 + 9).toString('latin1')).toBe('HANGAR-OK');
  });
});
