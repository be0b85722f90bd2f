import { describe, expect, it } from 'vitest';
import { hasPvhNote } from './kernel';

function note(type: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(4, 0); // namesz
  b.writeUInt32LE(4, 4); // descsz
  b.writeUInt32LE(type, 8);
  b.write('Xen\0', 12, 'latin1');
  return b;
}

describe('hasPvhNote', () => {
  it('finds the Xen PHYS32_ENTRY note (type 18) among others', () => {
    expect(hasPvhNote(Buffer.concat([Buffer.alloc(100), note(6), note(18), Buffer.alloc(10)]))).toBe(true);
  });
  it('is false without it', () => {
    expect(hasPvhNote(Buffer.concat([Buffer.alloc(100), note(6), note(7)]))).toBe(false);
    expect(hasPvhNote(Buffer.from('Xen\0'))).toBe(false);
  });
});
