import { describe, expect, it } from 'vitest';
import { firmwareOf, HEAD_SECTORS } from './disk-firmware';

const SECTOR = 512;
const ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const BIOS_BOOT = '21686148-6449-6e6f-744e-656564454649';
const LINUX = '0fc63daf-8483-4772-8e79-3d69d8477de4';

/** A type GUID as GPT writes it: the first three fields little-endian. */
function guidBytes(guid: string): Buffer {
  const [a, b, c, d, e] = guid.split('-');
  const le = (hex: string) => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(a), le(b), le(c), Buffer.from(d + e, 'hex')]);
}

/** A disk head: an MBR (boot code or not, partition types) and, for GPT, a header at LBA 1 and entries at LBA 2. */
function head(opts: { bootCode?: boolean; mbrTypes?: number[]; gpt?: string[] }): Buffer {
  const b = Buffer.alloc(HEAD_SECTORS * SECTOR);
  if (opts.bootCode) b.fill(0x90, 0, 440);
  const types = opts.gpt ? [0xee] : (opts.mbrTypes ?? []);
  types.forEach((t, i) => (b[446 + i * 16 + 4] = t));
  b.writeUInt16LE(0xaa55, 510);
  if (opts.gpt) {
    b.write('EFI PART', SECTOR, 'latin1');
    b.writeBigUInt64LE(2n, SECTOR + 72);
    b.writeUInt32LE(128, SECTOR + 80);
    b.writeUInt32LE(128, SECTOR + 84);
    opts.gpt.forEach((g, i) => guidBytes(g).copy(b, 2 * SECTOR + i * 128));
  }
  return b;
}

describe('the firmware a disk image boots with', () => {
  it('GPT: UEFI with an EFI system partition and no BIOS boot partition; a hybrid disk boots with BIOS', () => {
    expect(firmwareOf(head({ gpt: [ESP, LINUX] }))).toBe('uefi');
    expect(firmwareOf(head({ gpt: [BIOS_BOOT, ESP, LINUX], bootCode: true }))).toBe('bios');
    expect(firmwareOf(head({ gpt: [LINUX] }))).toBe('bios');
  });

  it('MBR: UEFI for an EFI partition (0xEF) with no boot code; boot code, or no ESP, is BIOS', () => {
    expect(firmwareOf(head({ mbrTypes: [0xef, 0x83] }))).toBe('uefi');
    expect(firmwareOf(head({ mbrTypes: [0x83, 0xef], bootCode: true }))).toBe('bios');
    expect(firmwareOf(head({ mbrTypes: [0x83], bootCode: true }))).toBe('bios');
  });

  it('anything unreadable (no signature, too short, odd entry sizes) is BIOS, the old default', () => {
    expect(firmwareOf(Buffer.alloc(HEAD_SECTORS * SECTOR))).toBe('bios');
    expect(firmwareOf(Buffer.alloc(100))).toBe('bios');
    const odd = head({ gpt: [ESP] });
    odd.writeUInt32LE(16, SECTOR + 84);
    expect(firmwareOf(odd)).toBe('bios');
  });
});
